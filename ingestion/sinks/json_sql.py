"""SQL that writes JSON text exactly as Python's `json.dumps(ensure_ascii=False)` does (shared by the sink,
which keeps the progress report's cells as text, and the report's statement)."""

from __future__ import annotations

# json.dumps(ensure_ascii=False) escapes exactly these: '"', '\\' and the control characters below 0x20.
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def json_string_sql(expr: str) -> str:
    """SQL for the JSON string literal of the VARCHAR `expr` (a column reference, never input), as
    `json.dumps(value, ensure_ascii=False)` writes it. The replace chain only runs on values that need it."""
    chain = f"replace(replace({expr}, '\\', '\\\\'), '\"', '\\\"')"
    for code in range(0x20):
        escaped = _SHORT_ESCAPES.get(chr(code), f"\\u{code:04x}")
        chain = f"replace({chain}, chr({code}), '{escaped}')"
    return f"""'"' || CASE WHEN regexp_matches({expr}, '[\\x00-\\x1f"\\\\]') THEN {chain} ELSE {expr} END || '"'"""
