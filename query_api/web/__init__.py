"""The group page: a server-rendered page per group (`/groups/<groupId>`) with a Progress Report tab, and a
token login form (`/login`) for the embedded default. Register with
`create_app(test_config={"EXTRA_BLUEPRINTS": ["query_api.web:blueprint"]})`.
"""

from query_api.web.views import blueprint

__all__ = ["blueprint"]
