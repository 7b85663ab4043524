"""Registry entry of the Assessment plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "assessment"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "allowStandalone": {"type": "boolean", "default": True,
                            "description": "false: every released assessment must name its course"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Assessment",
    description="Mentors release assessments (a course's content id, or a standalone one) to a group or a private "
                "batch; submissions arrive as LPA_ASSESSMENT events.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("assessments", "release", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.assessment.views"),
    launch_urls={"list": "/v1/groups/{groupId}/plugins/{pluginId}/assessments"},
)
