"""Registry entry of the Leaderboard plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "leaderboard"
_ID = {"type": "string", "minLength": 1, "maxLength": 256}


def _scope(kind: str, key: str) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["type", key],
            "properties": {"type": {"const": kind}, key: _ID}}


CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["scope", "metric"],
    "properties": {
        "scope": {"oneOf": [_scope("course", "courseId"), _scope("batch", "batchId"),
                            _scope("program", "programId")]},
        "metric": {"enum": ["progress", "assessment_score"]},
        "size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        "contentIds": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": True, "items": _ID,
                       "description": "assessment_score only: count these assessment contents (default: all)"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Leaderboard",
    description="Top learners of the group in a course, batch or program, by progress or assessment score; "
                "standard competition ranking (ties share a rank: 1, 2, 2, 4).",
    config_schema=CONFIG_SCHEMA,
    capabilities=("leaderboard", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.leaderboard.views"),
    launch_urls={"leaderboard": "/v1/groups/{groupId}/plugins/{pluginId}/leaderboard"},
)
