"""The group page: a server-rendered page per group (`/groups/<groupId>`) with a Progress Report tab, and a
token login form (`/login`) for the embedded default. Register with
`create_app(test_config={"EXTRA_BLUEPRINTS": ["query_api.web:blueprint"]})` (`bp` is the same blueprint).
"""

from query_api.plugins import web_tabs
from query_api.web.views import blueprint

# Group plugins' tabs (query_api/plugins/web_tabs.py): nested here so wherever the page is mounted, they are too.
blueprint.register_blueprint(web_tabs.blueprint)

bp = blueprint

__all__ = ["blueprint", "bp"]
