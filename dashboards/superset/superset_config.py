# Superset 6.1.0 config for the embedded, local, single-user server that `lpa dashboards serve` and the
# Superset tests start (from the verified recipe). dashboards/superset_runner.py sets the environment.
import os

# Required: Superset refuses to start with the default key. The runner passes a random one.
SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]

# Metadata DB (users, dashboards, charts): a SQLite file under $SUPERSET_HOME.
_home = os.environ.get("SUPERSET_HOME", os.path.expanduser("~/.superset"))
SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(_home, "superset.db")

# Lets scripts POST /login/ and call the REST API without fetching CSRF tokens first.
# Fine on 127.0.0.1 (the runner binds there); do not expose such a server to others.
WTF_CSRF_ENABLED = False

APP_NAME = "Learning progress"
FEATURE_FLAGS: dict = {}
