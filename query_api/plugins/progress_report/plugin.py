"""Registry entry of the Progress Report plugin. The report itself lives in `views.py` (its blueprint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "progress-report"

_FACET = {"type": "string", "minLength": 1, "maxLength": 256}
CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["courseIds"],
    "properties": {
        "courseIds": {"type": "array", "minItems": 1, "maxItems": 200, "uniqueItems": True,
                      "items": {"type": "string", "minLength": 1, "maxLength": 256}},
        "filters": {"type": "object", "additionalProperties": False,
                    "properties": {"board": _FACET, "medium": _FACET, "gradeLevel": _FACET, "subject": _FACET}},
        "membersSeeAll": {"type": "boolean", "default": False},
    },
}




def _default_config(context: Mapping[str, Any]) -> dict[str, Any]:
    return {"courseIds": list(context.get("courseIds") or []), "membersSeeAll": False}


PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Progress Report",
    description="Members' completion of the group's courses, by unit, from their best batch.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("report", "course-list", "add-course", "csv-export"),
    blueprint_factory=views_blueprint("query_api.plugins.progress_report.views"),
    default_config=_default_config,
    launch_urls={
        "report": "/v1/groups/{groupId}/plugins/{pluginId}/report",
        "csv": "/v1/groups/{groupId}/plugins/{pluginId}/report?format=csv",
    },
)
