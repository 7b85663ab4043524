"""Plugin registry entries, group links and launch data."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from query_api.schemas.common import RequestModel, ResponseModel
from query_api.schemas.groups import PluginLinkOut, Role


class PluginOut(ResponseModel):
    id: str
    version: str
    name: str
    description: str = ""
    capabilities: list[str]
    configSchema: dict[str, Any]


class PluginList(ResponseModel):
    plugins: list[PluginOut]
    loadErrors: dict[str, str] = Field(description="plugins that failed to load, with why")


class LinkIn(RequestModel):
    config: dict[str, Any] = Field(description="validated against the plugin's configSchema")


class LinkList(ResponseModel):
    groupId: str
    plugins: list[PluginLinkOut]


class LaunchOut(ResponseModel):
    groupId: str
    pluginId: str
    version: str
    name: str
    capabilities: list[str]
    config: dict[str, Any]
    memberRole: Role
    urls: dict[str, str]
