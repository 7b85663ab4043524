"""Course hierarchies (contracts.md section 1): parse the platform's collection JSON into what the
enricher and the progress report need. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLLECTION_MIME = "application/vnd.ekstep.content-collection"
MAX_DEPTH = 64


class HierarchyError(ValueError):
    """A hierarchy document that cannot be loaded; the message says where."""


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    optional: bool
    leaf_ids: frozenset[str]  # distinct non-optional leaves below the unit, at any depth

    @property
    def leaf_count(self) -> int:
        return len(self.leaf_ids)


@dataclass(frozen=True)
class LeafPlacement:
    """Where a content id sits: every ancestor collection below the root, and whether any placement of it
    is non-optional (a leaf placed twice counts once, and counts if any placement is required)."""

    ancestor_ids: tuple[str, ...]
    unit_ids: tuple[str, ...]
    optional: bool
    is_leaf: bool


@dataclass(frozen=True)
class CourseHierarchy:
    course_id: str
    name: str
    board: str | None = None
    medium: tuple[str, ...] = ()
    grade_level: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    units: tuple[Unit, ...] = ()
    nodes: dict[str, LeafPlacement] = field(default_factory=dict)
    leaf_ids: frozenset[str] = frozenset()  # distinct non-optional leaves of the whole course

    @property
    def leaf_count(self) -> int:
        return len(self.leaf_ids)

    @property
    def reported_units(self) -> tuple[Unit, ...]:
        """Optional units are left out of reports; units with only optional leaves stay (leafCount 0)."""
        return tuple(u for u in self.units if not u.optional)


def _as_tuple(value: Any, what: str, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise HierarchyError(f"{path}.{what}: expected a string or a list of strings")


def _is_optional_flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def parse_hierarchy(doc: Any) -> CourseHierarchy:
    """Validate and flatten one course document. Raises HierarchyError naming the bad node."""
    if not isinstance(doc, dict):
        raise HierarchyError("the hierarchy must be a JSON object")
    if "result" in doc and isinstance(doc["result"], dict):  # the platform's read API wraps it
        doc = doc["result"].get("content", doc["result"])
    course_id = doc.get("identifier")
    if not isinstance(course_id, str) or not course_id:
        raise HierarchyError("identifier: the course needs a non-empty string identifier")
    if doc.get("mimeType") != COLLECTION_MIME:
        raise HierarchyError(f"{course_id}: the root must be a collection (mimeType {COLLECTION_MIME})")

    placements: dict[str, dict[str, Any]] = {}
    unit_leaves: dict[str, set[str]] = {}
    units: list[tuple[str, str, bool]] = []

    def walk(node: Any, path: str, ancestors: tuple[str, ...], unit_id: str | None, optional: bool,
             depth: int) -> None:
        if depth > MAX_DEPTH:
            raise HierarchyError(f"{path}: deeper than {MAX_DEPTH} levels")
        if not isinstance(node, dict):
            raise HierarchyError(f"{path}: a child must be a JSON object")
        node_id = node.get("identifier")
        if not isinstance(node_id, str) or not node_id:
            raise HierarchyError(f"{path}: a node needs a non-empty string identifier")
        children = node.get("children") or []
        if not isinstance(children, list):
            raise HierarchyError(f"{path} ({node_id}): children must be a list")
        is_collection = node.get("mimeType") == COLLECTION_MIME
        relational = node.get("relationalMetadata") or {}
        if not isinstance(relational, dict):
            raise HierarchyError(f"{path} ({node_id}): relationalMetadata must be an object")

        if depth == 1 and is_collection:
            units.append((node_id, str(node.get("name") or node_id), optional))
            unit_leaves.setdefault(node_id, set())
            unit_id = node_id
        if depth >= 1:
            entry = placements.setdefault(node_id, {"ancestors": [], "units": [], "required": False,
                                                    "is_leaf": not is_collection})
            for a in ancestors:
                if a not in entry["ancestors"]:
                    entry["ancestors"].append(a)
            if unit_id and unit_id != node_id and unit_id not in entry["units"]:
                entry["units"].append(unit_id)
            if not optional:
                entry["required"] = True
                if not is_collection and unit_id:
                    unit_leaves[unit_id].add(node_id)
        if not is_collection:
            return
        below = ancestors + ((node_id,) if depth >= 1 else ())
        for index, child in enumerate(children):
            child_id = child.get("identifier") if isinstance(child, dict) else None
            meta = relational.get(child_id) if isinstance(child_id, str) else None
            child_optional = (optional
                              or (isinstance(child, dict) and _is_optional_flag(child.get("optional")))
                              or (isinstance(meta, dict) and _is_optional_flag(meta.get("optional"))))
            walk(child, f"{path}.children[{index}]", below, unit_id, child_optional, depth + 1)

    root_optional = False  # the course itself is never optional for its own report
    walk(doc, course_id, (), None, root_optional, 0)

    nodes = {
        node_id: LeafPlacement(ancestor_ids=tuple(p["ancestors"]), unit_ids=tuple(p["units"]),
                               optional=not p["required"], is_leaf=p["is_leaf"])
        for node_id, p in placements.items()
    }
    leaf_ids = frozenset(n for n, p in nodes.items() if p.is_leaf and not p.optional)
    return CourseHierarchy(
        course_id=course_id,
        name=str(doc.get("name") or course_id),
        board=doc.get("board") if isinstance(doc.get("board"), str) else None,
        medium=_as_tuple(doc.get("medium"), "medium", course_id),
        grade_level=_as_tuple(doc.get("gradeLevel"), "gradeLevel", course_id),
        subject=_as_tuple(doc.get("subject"), "subject", course_id),
        units=tuple(Unit(uid, name, opt, frozenset(unit_leaves[uid])) for uid, name, opt in units),
        nodes=nodes,
        leaf_ids=leaf_ids,
    )
