"""Linking registry plugins to groups: the config is validated against the plugin's schema and stored as the
group's plugin metadata."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lpa.settings import Settings
from query_api.errors import Invalid, LimitExceeded, NotFound
from query_api.models import PluginLink, utcnow
from query_api.plugins.base import Plugin, PluginRegistry
from query_api.services.access import require_member
from query_api.services.groups import ensure_not_suspended


def plugin_or_404(registry: PluginRegistry, plugin_id: str) -> Plugin:
    plugin = registry.get(plugin_id)
    if plugin is None:
        raise NotFound(f"plugin {plugin_id} is not registered", {"pluginId": plugin_id}, code="plugin_not_found")
    return plugin


def validated_config(plugin: Plugin, config: dict[str, Any]) -> dict[str, Any]:
    """Schema errors -> 422 listing each one; top-level defaults from the schema are filled in."""
    errors = sorted(plugin.validator().iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        details = [{"path": "/".join(str(p) for p in e.absolute_path) or "(config)", "message": e.message}
                   for e in errors[:20]]
        raise Invalid(f"the config does not match plugin {plugin.id}'s schema", details, code="invalid_config")
    filled = dict(config)
    for key, prop in (plugin.config_schema.get("properties") or {}).items():
        if isinstance(prop, dict) and "default" in prop and key not in filled:
            filled[key] = prop["default"]
    return filled


def link_plugin(session: Session, settings: Settings, registry: PluginRegistry, caller: str, group_id: str,
                plugin_id: str, config: dict[str, Any]) -> tuple[PluginLink, bool]:
    """Create or replace the link; returns (link, created)."""
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    ensure_not_suspended(group)
    plugin = plugin_or_404(registry, plugin_id)
    config = validated_config(plugin, config)
    link = session.get(PluginLink, (group_id, plugin_id))
    now = utcnow()
    if link is None:
        count = session.scalar(select(func.count()).select_from(PluginLink)
                               .where(PluginLink.group_id == group_id)) or 0
        maximum = settings.max_plugins_per_group
        if count >= maximum:
            raise LimitExceeded("max_plugins_per_group", maximum,
                                f"a group can link at most {maximum} plugins", groupId=group_id)
        link = PluginLink(group_id=group_id, plugin_id=plugin_id, plugin_version=plugin.version, config=config,
                          created_on=now, created_by=caller)
        session.add(link)
        session.flush()
        return link, True
    link.config, link.plugin_version, link.updated_on, link.updated_by = config, plugin.version, now, caller
    session.flush()
    return link, False


def unlink_plugin(session: Session, caller: str, group_id: str, plugin_id: str) -> None:
    group, _ = require_member(session, group_id, caller, need_admin=True, for_update=True)
    ensure_not_suspended(group)
    link = session.get(PluginLink, (group_id, plugin_id))
    if link is None:
        raise NotFound(f"plugin {plugin_id} is not linked to group {group_id}",
                       {"groupId": group_id, "pluginId": plugin_id}, code="plugin_not_linked")
    session.delete(link)
    session.flush()


def get_link(session: Session, caller: str, group_id: str, plugin_id: str) -> tuple[PluginLink, str]:
    _, role = require_member(session, group_id, caller)
    link = session.get(PluginLink, (group_id, plugin_id))
    if link is None:
        raise NotFound(f"plugin {plugin_id} is not linked to group {group_id}",
                       {"groupId": group_id, "pluginId": plugin_id}, code="plugin_not_linked")
    return link, role
