"""Registry entry of the Discussion Forum plugin (views in `views.py`)."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Blueprint

from query_api.plugins.base import Plugin

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


def _blueprint() -> Blueprint:
    return importlib.import_module("query_api.plugins.discussion_forum.views").blueprint


PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Discussion Forum",
    description="Threads and replies within a group; admins lock a thread or remove a post.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("forum", "moderation", "tab"),
    blueprint_factory=_blueprint,
    launch_urls={"threads": "/v1/groups/{groupId}/plugins/{pluginId}/threads"},
)
