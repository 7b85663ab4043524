"""Subgroups from rules and per-group material.

A rule-made subgroup is an ordinary group (B's `create_group`: parentGroupId, the caller -- an admin of the
parent -- as admin, every member limit and rule applies), made with the learners the rule matches at creation
(a snapshot, kept with the rule in `plugin_subgroup_rules`), and with this plugin linked so material can be
attached at once. Material belongs to one group and is shown to that group's members only: the parent's other
members get the same 404 as any non-member.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lpa.settings import Settings
from query_api.errors import Invalid, NotFound
from query_api.models import Group, Material, SubgroupRule
from query_api.plugins import common
from query_api.plugins.base import PluginRegistry
from query_api.plugins.supplementary_material.plugin import PLUGIN_ID
from query_api.plugins.supplementary_material.rules import Rule, matching
from query_api.schemas.common import NO_NUL, Id, LongText, Name
from query_api.schemas.groups import GroupCreate, MemberIn
from query_api.services.groups import create_group
from query_api.services.plugin_links import link_plugin


class SubgroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: LongText | None = None
    rule: Rule


class MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    contentId: Id | None = None
    url: str | None = Field(default=None, min_length=1, max_length=2000, pattern=NO_NUL)
    note: str | None = Field(default=None, max_length=5000, pattern=NO_NUL)

    @model_validator(mode="after")
    def _one_target(self) -> MaterialIn:
        if (self.contentId is None) == (self.url is None):
            raise ValueError("give exactly one of contentId or url")
        if self.url is not None:
            parsed = urlparse(self.url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError("url must be an absolute http(s) URL")
        return self


def rule_out(row: SubgroupRule, group: Group | None) -> dict[str, Any]:
    members = [] if group is None else sorted(m.user_id for m in group.members
                                              if m.status == "active" and m.role != "admin")
    return {"groupId": row.group_id, "parentGroupId": row.parent_group_id,
            "name": None if group is None else group.name, "rule": dict(row.rule), "matched": list(row.matched),
            "members": members, "createdOn": common.iso(row.created_on), "createdBy": row.created_by}


def create_subgroup(session: Session, settings: Settings, registry: PluginRegistry, parent_id: str, user_id: str,
                    data: SubgroupIn) -> dict[str, Any]:
    common.context(session, parent_id, user_id, PLUGIN_ID, need_admin=True).writable()
    matched = matching(session, parent_id, data.rule)
    if not matched:
        raise Invalid("the rule matches no learner of the group: no subgroup was made",
                      {"rule": data.rule.model_dump(mode="json")}, code="no_matching_learners")
    group = create_group(session, settings, user_id, GroupCreate(
        name=data.name, description=data.description, parentGroupId=parent_id,
        members=[MemberIn(userId=u) for u in matched if u != user_id]))
    link_plugin(session, settings, registry, user_id, group.id, PLUGIN_ID, {})
    row = SubgroupRule(group_id=group.id, parent_group_id=parent_id, rule=data.rule.model_dump(mode="json"),
                       matched=matched, created_on=common.clock(), created_by=user_id)
    session.add(row)
    session.commit()
    return rule_out(row, group)


def subgroups(session: Session, parent_id: str, user_id: str) -> dict[str, Any]:
    common.context(session, parent_id, user_id, PLUGIN_ID, need_admin=True)
    rows = list(session.scalars(select(SubgroupRule).where(SubgroupRule.parent_group_id == parent_id)
                                .order_by(SubgroupRule.created_on.desc())))
    groups = {g.id: g for g in session.scalars(select(Group).where(
        Group.id.in_([r.group_id for r in rows]), Group.status != "inactive"))} if rows else {}
    return {"groupId": parent_id, "subgroups": [rule_out(r, groups[r.group_id]) for r in rows if r.group_id in groups]}


def material_out(row: Material) -> dict[str, Any]:
    return {"id": row.id, "groupId": row.group_id, "title": row.title, "contentId": row.content_id, "url": row.url,
            "note": row.note, "createdOn": common.iso(row.created_on), "createdBy": row.created_by}


def add_material(session: Session, group_id: str, user_id: str, data: MaterialIn) -> dict[str, Any]:
    common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True).writable()
    row = Material(id=common.new_id(), group_id=group_id, title=data.title, content_id=data.contentId, url=data.url,
                   note=data.note, status="active", created_on=common.clock(), created_by=user_id)
    session.add(row)
    session.commit()
    return material_out(row)


def materials(session: Session, group_id: str, user_id: str, page: common.Page) -> dict[str, Any]:
    ctx = common.context(session, group_id, user_id, PLUGIN_ID)
    where = (Material.group_id == group_id, Material.status == "active")
    total = session.scalar(select(func.count()).select_from(Material).where(*where)) or 0
    rows = session.scalars(select(Material).where(*where).order_by(Material.created_on.desc(), Material.id.desc())
                           .limit(page.limit).offset(page.offset))
    return {"groupId": group_id, "note": ctx.config.get("note"),
            **common.page_of([material_out(r) for r in rows], total, page, "materials")}


def remove_material(session: Session, group_id: str, user_id: str, material_id: str) -> None:
    common.context(session, group_id, user_id, PLUGIN_ID, need_admin=True)
    row = session.get(Material, material_id)
    if row is None or row.group_id != group_id or row.status != "active":
        raise NotFound(f"material {material_id} not found", {"materialId": material_id}, code="material_not_found")
    row.status, row.removed_on, row.removed_by = "removed", common.clock(), user_id
    session.commit()
