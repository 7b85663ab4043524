"""Registry entry of the Supplementary Material plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "supplementary-material"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "note": {"type": "string", "maxLength": 2000, "description": "shown above the group's material"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Supplementary Material",
    description="Subgroups by criteria (scored below X% in an assessment, enrolled in the last N days, inactive "
                "for N days) and material (content ids or URLs with a note) for each subgroup's members only.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("subgroups-by-rule", "materials", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.supplementary_material.views"),
    launch_urls={"materials": "/v1/groups/{groupId}/plugins/{pluginId}/materials",
                 "subgroups": "/v1/groups/{groupId}/plugins/{pluginId}/subgroups"},
)
