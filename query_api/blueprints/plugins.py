"""/v1/plugins (the registry) and /v1/groups/{groupId}/plugins/{pluginId} (links and launch)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from query_api import db
from query_api.auth import current_user_id, login_required
from query_api.http import body, no_content, respond, settings
from query_api.plugins.base import PluginRegistry
from query_api.schemas.plugins import LaunchOut, LinkIn, LinkList, PluginList, PluginOut
from query_api.services import plugin_links as service
from query_api.services.access import require_member
from query_api.services.present import link_out

bp = Blueprint("plugins", __name__)


def registry() -> PluginRegistry:
    return current_app.extensions["lpa.plugins"]


@bp.get("/v1/plugins")
@login_required
def list_plugins() -> Response:
    reg = registry()
    return respond(PluginList(plugins=[PluginOut.model_validate(p.describe()) for p in reg.plugins.values()],
                              loadErrors=dict(reg.load_errors)))


@bp.get("/v1/groups/<group_id>/plugins")
@login_required
def links(group_id: str) -> Response:
    group, _ = require_member(db.session(), group_id, current_user_id())
    return respond(LinkList(groupId=group_id, plugins=[link_out(link) for link in group.plugins]))


@bp.get("/v1/groups/<group_id>/plugins/<plugin_id>")
@login_required
def get_link(group_id: str, plugin_id: str) -> Response:
    link, _ = service.get_link(db.session(), current_user_id(), group_id, plugin_id)
    return respond(link_out(link))


@bp.put("/v1/groups/<group_id>/plugins/<plugin_id>")
@login_required
def put_link(group_id: str, plugin_id: str) -> Response:
    session = db.session()
    request_body = body(LinkIn)
    link, created = service.link_plugin(session, settings(), registry(), current_user_id(), group_id, plugin_id,
                                        request_body.config)
    session.commit()
    return respond(link_out(link), 201 if created else 200)


@bp.delete("/v1/groups/<group_id>/plugins/<plugin_id>")
@login_required
def delete_link(group_id: str, plugin_id: str) -> Response:
    session = db.session()
    service.unlink_plugin(session, current_user_id(), group_id, plugin_id)
    session.commit()
    return no_content()


@bp.get("/v1/groups/<group_id>/plugins/<plugin_id>/launch")
@login_required
def launch(group_id: str, plugin_id: str) -> Response:
    link, role = service.get_link(db.session(), current_user_id(), group_id, plugin_id)
    plugin = service.plugin_or_404(registry(), plugin_id)
    urls = {name: template.format(groupId=group_id, pluginId=plugin_id)
            for name, template in plugin.launch_urls.items()}
    return respond(LaunchOut(groupId=group_id, pluginId=plugin_id, version=plugin.version, name=plugin.name,
                             capabilities=list(plugin.capabilities), config=link.config, memberRole=role,  # type: ignore[arg-type]
                             urls=urls))
