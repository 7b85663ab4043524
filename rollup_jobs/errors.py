"""The backfill's own errors: each names what is wrong and where, for a one-line CLI message."""

from __future__ import annotations


class BackfillError(Exception):
    """Base of every error the backfill reports to the user (no traceback)."""


class InputNotFoundError(BackfillError):
    """An input folder or file that is not there (or holds no data files)."""


class MissingColumnsError(BackfillError):
    """An input table without a column the job cannot do without."""


class CatalogError(BackfillError):
    """A catalog folder that cannot be read, or a hierarchy file that does not parse."""


class StoreLockedError(BackfillError):
    """The DuckDB file is held read-write by another process (a running `lpa up`)."""
