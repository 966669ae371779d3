

# --- Added by stackgen: settings from the environment (.env and compose). ---
import os as _os  # noqa: E402
from urllib.parse import unquote as _unquote, urlparse as _urlparse  # noqa: E402

SECRET_KEY = _os.environ.get("DJANGO_SECRET_KEY", SECRET_KEY)
DEBUG = _os.environ.get("DJANGO_DEBUG", "1" if DEBUG else "0") == "1"
ALLOWED_HOSTS = _os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
if _os.environ.get("DATABASE_URL"):
    _db = _urlparse(_os.environ["DATABASE_URL"])
    if _db.scheme == "mysql":
        import pymysql  # noqa: E402

        pymysql.install_as_MySQLdb()
    DATABASES["default"] = {
        "ENGINE": {
            "postgresql": "django.db.backends.postgresql",
            "postgres": "django.db.backends.postgresql",
            "mysql": "django.db.backends.mysql",
        }[_db.scheme],
        "NAME": _db.path.lstrip("/"),
        "USER": _unquote(_db.username or ""),
        "PASSWORD": _unquote(_db.password or ""),
        "HOST": _db.hostname or "",
        "PORT": _db.port or "",
    }
if _os.environ.get("EMAIL_HOST"):
    EMAIL_HOST = _os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(_os.environ.get("EMAIL_PORT", "25"))
