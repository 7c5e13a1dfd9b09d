"""Settings for `make run` on a developer machine."""

import os

from config.env import env, env_bool, env_choice
from config.logging import build_logging
from config.logging import validated as validated_log_settings

# base.py has no default secrets; these are the development services' (docker-compose,
# .ci/setup.sh), used when neither the environment nor .env (read by config.env) sets them.
os.environ.setdefault("DATABASE_URL", "postgis://placemap:placemap@127.0.0.1:5432/placemap")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "placemap")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "placemap-secret")

from .base import *  # noqa: F403
from .base import BASE_DIR

DEBUG = env_bool("DEBUG", True)
# A fixed key is acceptable only here: local data is throwaway demo data.
SECRET_KEY = env.str("SECRET_KEY", default="local-only-insecure-key-never-use-in-production")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
# Mailed (var/mail) but not required: a developer's new account may write at once
# (production's default is mandatory; docs/accounts.md).
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "optional", choices=("mandatory", "optional", "none")
)
# Readable log lines and DEBUG on a developer's terminal; LOG_FORMAT/LOG_LEVEL still win.
LOG_FORMAT, LOG_LEVEL = validated_log_settings(
    env.str("LOG_FORMAT", default="") or "console", env.str("LOG_LEVEL", default="") or "DEBUG"
)
LOGGING = build_logging(log_format=LOG_FORMAT, log_level=LOG_LEVEL)
