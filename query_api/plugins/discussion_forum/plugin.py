"""Registry entry of the Discussion Forum plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "discussion-forum"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "membersCanStartThreads": {"type": "boolean", "default": True,
                                   "description": "false: only admins start threads (members still reply)"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Discussion Forum",
    description="Threads and replies within a group; admins lock a thread or remove a post.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("forum", "moderation", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.discussion_forum.views"),
    launch_urls={"threads": "/v1/groups/{groupId}/plugins/{pluginId}/threads"},
)
