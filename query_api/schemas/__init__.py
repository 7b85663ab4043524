"""Pydantic models at the API's boundary: request bodies are strict (unknown fields are errors), responses
are what `/openapi.json` documents."""
