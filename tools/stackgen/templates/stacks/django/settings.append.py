

# --- Added by stackgen: settings from the environment (.env and compose). ---
def _settings_from_environment(settings):
    """Override the settings above from the variables .env and compose set."""
    import os
    from urllib.parse import unquote, urlparse

    env = os.environ
    settings["SECRET_KEY"] = env.get("DJANGO_SECRET_KEY", settings["SECRET_KEY"])
    settings["DEBUG"] = env.get("DJANGO_DEBUG", "1" if settings["DEBUG"] else "0") == "1"
    settings["ALLOWED_HOSTS"] = env.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")
    if env.get("DATABASE_URL"):
        db = urlparse(env["DATABASE_URL"])
        if db.scheme == "mysql":
            import pymysql

            pymysql.install_as_MySQLdb()
        settings["DATABASES"]["default"] = {
            "ENGINE": {
                "postgresql": "django.db.backends.postgresql",
                "postgres": "django.db.backends.postgresql",
                "mysql": "django.db.backends.mysql",
            }[db.scheme],
            "NAME": db.path.lstrip("/"),
            "USER": unquote(db.username or ""),
            "PASSWORD": unquote(db.password or ""),
            "HOST": db.hostname or "",
            "PORT": db.port or "",
        }
    if env.get("REDIS_URL"):
        # On a shared Redis the project's ACL user owns only keys that start
        # with its prefix (REDIS_KEY_PREFIX, "p_NAME:"); Django adds the ":".
        prefix = env.get("REDIS_KEY_PREFIX", "").rstrip(":")
        settings["CACHES"] = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": env["REDIS_URL"],
                "KEY_PREFIX": prefix,
            }
        }
        if env.get("CELERY_BROKER_URL"):
            settings["CELERY_BROKER_URL"] = env["CELERY_BROKER_URL"]
            if prefix:
                settings["CELERY_BROKER_TRANSPORT_OPTIONS"] = {"global_keyprefix": prefix + ":"}
    if env.get("EMAIL_HOST"):
        settings["EMAIL_HOST"] = env["EMAIL_HOST"]
        settings["EMAIL_PORT"] = int(env.get("EMAIL_PORT", "25"))


_settings_from_environment(globals())
