"""Registry entry of the Activity Stream plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "activity-stream"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "courseIds": {"type": "array", "maxItems": 200, "uniqueItems": True,
                      "items": {"type": "string", "minLength": 1, "maxLength": 256},
                      "description": "courses whose completion is a milestone (default: the Progress Report's)"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Activity Stream",
    description="Members post updates; the system adds milestones (a member completed a course, an assessment "
                "was released). Paginated, newest first.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("stream", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.activity_stream.views"),
    launch_urls={"entries": "/v1/groups/{groupId}/plugins/{pluginId}/entries"},
)
