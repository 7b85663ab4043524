"""Registry entry of the Gradebook plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "gradebook"
_ID = {"type": "string", "minLength": 1, "maxLength": 256}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "assessments": {
            "type": "array", "minItems": 1, "maxItems": 100,
            "description": "the columns; absent: the assessments released to the group (Assessment plugin)",
            "items": {"type": "object", "additionalProperties": False, "required": ["contentId"],
                      "properties": {"contentId": _ID, "courseId": _ID,
                                     "title": {"type": "string", "minLength": 1, "maxLength": 200}}},
        },
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Gradebook",
    description="Best attempt per learner and assessment (highest score; ties: the latest attempt) with attempt "
                "counts; admins see every member with averages, learners only their own scores.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("grades", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.gradebook.views"),
    launch_urls={"grades": "/v1/groups/{groupId}/plugins/{pluginId}/grades"},
)
