"""What a plugin is, and the registry that finds plugins through the `lpa.plugins` entry-point group.

A third party ships a plugin as its own package with
`[options.entry_points] lpa.plugins = my-plugin = my_package.plugin:PLUGIN`. A plugin that fails to load is
kept in `load_errors` (shown on /readyz and GET /v1/plugins), never silently skipped.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from flask import Blueprint
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "lpa.plugins"
PLUGIN_ID = re.compile(r"^[a-z][a-z0-9-]{1,62}$")


def views_blueprint(module: str) -> Callable[[], Blueprint]:
    """A `blueprint_factory` that imports `module` and returns its `blueprint` only when the app is built:
    the registry entry stays cheap to import, and an import error is recorded as the plugin's load error."""

    def factory() -> Blueprint:
        return importlib.import_module(module).blueprint  # type: ignore[no-any-return]

    return factory


@dataclass(frozen=True)
class Plugin:
    """A registry entry.

    - `config_schema`: JSON schema (draft 2020-12) that a group's link config must satisfy.
    - `capabilities`: what the plugin offers (free-form tags shown to clients, e.g. "report").
    - `blueprint_factory`: returns the plugin's Flask blueprint (or None); it is mounted at
      `/v1/groups/<group_id>/plugins/<plugin id>`, so every view receives `group_id`.
    - `default_config`: builds the config used when the plugin is linked automatically; it receives a context
      such as {"groupId": ..., "batchId": ..., "courseIds": [...]}.
    - `launch_urls`: name -> URL template; `{groupId}` and `{pluginId}` are filled in by the launch endpoint.
    """

    id: str
    version: str
    name: str
    config_schema: Mapping[str, Any]
    capabilities: tuple[str, ...] = ()
    description: str = ""
    blueprint_factory: Callable[[], Blueprint | None] | None = None
    default_config: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    launch_urls: Mapping[str, str] = field(default_factory=dict)

    def validator(self) -> Draft202012Validator:
        return Draft202012Validator(dict(self.config_schema))

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "name": self.name, "description": self.description,
                "capabilities": list(self.capabilities), "configSchema": dict(self.config_schema)}


class PluginRegistry:
    def __init__(self) -> None:
        self.plugins: dict[str, Plugin] = {}
        self.load_errors: dict[str, str] = {}

    @classmethod
    def discover(cls, group: str = ENTRY_POINT_GROUP) -> PluginRegistry:
        registry = cls()
        for ep in sorted(entry_points(group=group), key=lambda e: e.name):
            try:
                loaded = ep.load()
            except Exception as error:  # a broken third-party plugin must not take the API down
                registry.record_error(ep.name, f"cannot load {ep.value}: {type(error).__name__}: {error}")
                continue
            registry.add(loaded, name=ep.name)
        return registry

    @classmethod
    def of(cls, plugins: Iterable[Any]) -> PluginRegistry:
        registry = cls()
        for plugin in plugins:
            registry.add(plugin)
        return registry

    def record_error(self, name: str, message: str) -> None:
        log.error("plugin %s failed to load: %s", name, message)
        self.load_errors[name] = message

    def add(self, plugin: Any, name: str | None = None) -> None:
        """Check the entry before accepting it: right type, well-formed id, a valid JSON schema, no duplicate."""
        label = name or getattr(plugin, "id", repr(plugin))
        if not isinstance(plugin, Plugin):
            self.record_error(label, f"expected a query_api.plugins.base.Plugin, got {type(plugin).__name__}")
            return
        if not PLUGIN_ID.match(plugin.id):
            self.record_error(label, f"plugin id {plugin.id!r} must match {PLUGIN_ID.pattern}")
            return
        if name is not None and name != plugin.id:
            self.record_error(label, f"entry point name {name!r} differs from the plugin id {plugin.id!r}")
            return
        if plugin.id in self.plugins:
            self.record_error(label, f"plugin id {plugin.id!r} is registered twice")
            return
        try:
            Draft202012Validator.check_schema(dict(plugin.config_schema))
        except SchemaError as error:
            self.record_error(label, f"invalid config schema: {error.message}")
            return
        self.plugins[plugin.id] = plugin

    def get(self, plugin_id: str) -> Plugin | None:
        return self.plugins.get(plugin_id)

    def blueprints(self) -> list[tuple[Plugin, Blueprint]]:
        """Each plugin's blueprint; a factory that raises is recorded as a load error."""
        found = []
        for plugin in self.plugins.values():
            if plugin.blueprint_factory is None:
                continue
            try:
                blueprint = plugin.blueprint_factory()
            except Exception as error:
                self.record_error(plugin.id, f"blueprint factory failed: {type(error).__name__}: {error}")
                continue
            if blueprint is not None:
                found.append((plugin, blueprint))
        return found
