"""Registry entry of the Announcements plugin (views in `views.py`)."""

from __future__ import annotations

from typing import Any

from query_api.plugins.base import Plugin, views_blueprint

PLUGIN_ID = "announcements"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "defaultExpiryDays": {"type": "integer", "minimum": 1, "maximum": 3650,
                              "description": "expiry given to an announcement posted without one"},
    },
}




PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name="Announcements",
    description="Admins post announcements (title, body, optional expiry); members list them, newest first.",
    config_schema=CONFIG_SCHEMA,
    capabilities=("announcements", "tab"),
    blueprint_factory=views_blueprint("query_api.plugins.announcements.views"),
    launch_urls={"list": "/v1/groups/{groupId}/plugins/{pluginId}/announcements"},
)
