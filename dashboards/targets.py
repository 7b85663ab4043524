"""The two databases a bundle can point at. What differs between them is data, in one small class each:
the database entry (URI, engine options) and the physical name of each logical relation.

Logical relations (the only names dataset SQL may use, as `{{name}}`):
- enriched: the enriched stream (ingestion/schema.py EnrichedRow + `__time`);
- daily_progress: the daily rollups (rollup_jobs/schema.py DAILY_PROGRESS_SCHEMA, `__time` = start of day);
- courses / units / leaves: the catalog's dimensions (dashboards/dims.py), from the metadata store.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

RELATIONS: tuple[str, ...] = ("enriched", "daily_progress", "courses", "units", "leaves")
_SAFE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,127}$")
SPECS_DIR = Path(__file__).resolve().parent.parent / "ingestion" / "specs"
NAMESPACE = uuid.UUID("0b6f5f4e-8d1c-5a7e-9f3b-2c4d6e8fa0b1")


class TargetError(ValueError):
    """A target that cannot be built (bad URL, unsafe relation name)."""


def quote_identifier(name: str) -> str:
    """Double quotes work in both Druid SQL and DuckDB; only allow-listed characters get this far."""
    if not _SAFE_IDENTIFIER.match(name):
        raise TargetError(f"unsafe relation name {name!r}")
    return f'"{name}"'


@dataclass(frozen=True)
class Target:
    """One database; subclasses state what differs."""

    name: ClassVar[str]
    database_name: ClassVar[str]
    relation_names: dict[str, str] = field(default_factory=dict)

    def relation(self, logical: str) -> str:
        if logical not in RELATIONS:
            raise TargetError(f"unknown relation {{{{{logical}}}}}: allowed are {', '.join(RELATIONS)}")
        return quote_identifier(self.relation_names[logical])

    def uuid(self, kind: str, name: str) -> str:
        """Stable across builds; per target, so both bundles can be told apart once imported."""
        return str(uuid.uuid5(NAMESPACE, f"{self.name}/{kind}/{name}"))

    def database(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class DuckDBTarget(Target):
    """The embedded store: a DuckDB file opened read-only (Superset opens a connection per query)."""

    name: ClassVar[str] = "duckdb"
    database_name: ClassVar[str] = "lpa_embedded_duckdb"
    duckdb_path: Path = Path("analytics-snapshot.duckdb")
    relation_names: dict[str, str] = field(default_factory=lambda: {
        "enriched": "enriched_events", "daily_progress": "daily_progress",
        "courses": "lpa_dim_courses", "units": "lpa_dim_units", "leaves": "lpa_dim_leaves"})

    def database(self) -> dict[str, Any]:
        return {
            "sqlalchemy_uri": f"duckdb:///{Path(self.duckdb_path).resolve()}",
            "extra": {"engine_params": {"connect_args": {"read_only": True}}, "metadata_params": {},
                      "allows_virtual_table_explore": True},
        }


def druid_sqlalchemy_uri(url: str) -> str:
    """`http(s)://router:8888` (what operators know) -> pydruid's `druid[+https]://router:8888/druid/v2/sql/`."""
    parts = urlsplit(url)
    if parts.scheme in ("druid", "druid+https"):
        return url
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"--druid-url must look like http://router:8888, got {url!r}")
    scheme = "druid+https" if parts.scheme == "https" else "druid"
    port = parts.port or (443 if parts.scheme == "https" else 8888)
    return f"{scheme}://{parts.hostname}:{port}/druid/v2/sql/"


def druid_datasource_from_specs(default: str = "lpa_enriched") -> str:
    """The enriched datasource's name as ingestion/specs/ states it (the supervisor spec), else the default."""
    for path in sorted(SPECS_DIR.glob("*.json")) if SPECS_DIR.is_dir() else ():
        try:
            spec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        spec = spec.get("spec", spec)
        if spec.get("ioConfig", {}).get("type") == "kafka" or "supervisor" in path.name:
            name = spec.get("dataSchema", {}).get("dataSource")
            if isinstance(name, str):
                return name
    return default


@dataclass(frozen=True)
class DruidTarget(Target):
    """Production: Druid SQL through pydruid's SQLAlchemy dialect. COUNT(DISTINCT) is made exact through the
    query context, so the same metric text means the same number on both targets."""

    name: ClassVar[str] = "druid"
    database_name: ClassVar[str] = "lpa_druid"
    druid_url: str = "http://localhost:8888"
    relation_names: dict[str, str] = field(default_factory=lambda: {
        "enriched": druid_datasource_from_specs(), "daily_progress": "lpa_daily_progress",
        "courses": "lpa_dim_courses", "units": "lpa_dim_units", "leaves": "lpa_dim_leaves"})

    def database(self) -> dict[str, Any]:
        return {
            "sqlalchemy_uri": druid_sqlalchemy_uri(self.druid_url),
            "extra": {"engine_params": {"context": {"useApproximateCountDistinct": False,
                                                    "sqlTimeZone": "Etc/UTC"}},
                      "metadata_params": {}, "allows_virtual_table_explore": True},
        }
