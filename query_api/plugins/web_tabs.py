"""Group-page tabs of the group plugins: one server-rendered tab per linked plugin, fed by the same use cases
as the REST API (so access rules and errors are the API's own), at `/groups/<groupId>/tabs/<pluginId>`.

Hooked into the group page (query_api/web) by two small, commented lines: `query_api/web/__init__.py` nests
this blueprint in the page's, and the page's tab bar lists `linked_tabs(...)`. Everything else lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from query_api import db
from query_api.errors import NotFound
from query_api.models import PluginLink
from query_api.plugins import common
from query_api.plugins.activity_stream import service as stream
from query_api.plugins.announcements import service as announcements
from query_api.plugins.assessment import service as assessment
from query_api.plugins.discussion_forum import service as forum
from query_api.plugins.gradebook import service as gradebook
from query_api.plugins.leaderboard import service as leaderboard
from query_api.plugins.supplementary_material import service as material
from query_api.services.access import group_for_user

Loader = Callable[[Session, str, str], dict[str, Any]]


@dataclass(frozen=True)
class Tab:
    plugin_id: str
    label: str
    load: Loader


def _page() -> common.Page:
    return common.Page(limit=50)


TABS: tuple[Tab, ...] = (
    Tab("announcements", "Announcements",
        lambda s, g, u: announcements.listing(s, g, u, announcements.AnnouncementQuery(limit=50))),
    Tab("activity-stream", "Activity", lambda s, g, u: stream.entries(s, g, u, _page())),
    Tab("assessment", "Assessments", lambda s, g, u: assessment.listing(s, g, u, _page())),
    Tab("gradebook", "Gradebook", gradebook.grades),
    Tab("leaderboard", "Leaderboard", leaderboard.leaderboard),
    Tab("discussion-forum", "Forum", lambda s, g, u: forum.threads(s, g, u, _page())),
    Tab("supplementary-material", "Material", lambda s, g, u: material.materials(s, g, u, _page())),
)
BY_ID = {tab.plugin_id: tab for tab in TABS}

blueprint = Blueprint("plugin_tabs", __name__, template_folder="templates")


def linked_tabs(session: Session, group_id: str) -> list[Tab]:
    """The tabs of the plugins linked to the group, in TABS order."""
    linked = set(session.scalars(select(PluginLink.plugin_id).where(PluginLink.group_id == group_id)))
    return [tab for tab in TABS if tab.plugin_id in linked]


@blueprint.get("/groups/<group_id>/tabs/<plugin_id>")
def tab(group_id: str, plugin_id: str) -> BaseResponse | str:
    from query_api.web import session as web_session  # the page's cookie session (query_api/web owns it)

    caller = web_session.caller_from_cookie()
    if caller is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    chosen = BY_ID.get(plugin_id)
    if chosen is None:
        raise NotFound(f"no tab for plugin {plugin_id}", {"pluginId": plugin_id}, code="plugin_not_found")
    session = db.session()
    access = group_for_user(group_id, caller.user_id, session=session)
    data = chosen.load(session, group_id, caller.user_id)
    return render_template("plugin_tabs/tab.html", access=access, user_id=caller.user_id, tab=chosen, data=data,
                           tabs=linked_tabs(session, group_id))


@blueprint.app_context_processor
def _tab_helpers() -> dict[str, Any]:
    """`plugin_tabs_for(group_id)` in the page templates: the group page's tab bar lists the linked tabs."""
    return {"plugin_tabs_for": lambda group_id: linked_tabs(db.session(), group_id)}
