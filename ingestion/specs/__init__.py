"""Druid ingestion specs rendered from ingestion.schema (see render.py and README.md)."""
