"""Wire compatibility with Sunbird's group clients (portal and mobile app): groups-service's group calls and
lms-service's activity aggregate, over this project's groups and progress (docs/sunbird.md).

`bp` is the blueprint with every path; the app factory registers it.
"""

from query_api.sunbird.views import bp

__all__ = ["bp"]
