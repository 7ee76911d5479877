"""Django settings of the demo identity provider (its own site, process and SQLite file)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import issuer

_ROOT = Path(__file__).resolve().parents[3]
VAR_DIR = Path(os.environ.get("NEXUSOPS_VAR_DIR", _ROOT / "var")) / "idp"
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _signing_key() -> str:
    """The provider's RSA key, made once per var dir (the console reads it from the JWKS)."""
    path = VAR_DIR / "signing-key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path.read_text()


SECRET_KEY = "nexus-sso-demo-only-not-a-secret-0123456789abcdefghijklmnop"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "nexusops.standins.idp",
]
MIDDLEWARE = [
    # Its admin's stylesheets, straight from the installed apps (no collectstatic).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "nexusops.standins.idp.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "idp.sqlite3"),
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "/accounts/login/"
# Two sites on 127.0.0.1 share cookies by host: names of its own keep the console's session.
SESSION_COOKIE_NAME = "nexus_sso_session"
CSRF_COOKIE_NAME = "nexus_sso_csrftoken"
# A stand-in whose passwords are printed in the README: a fast hash keeps sign-ins quick.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _signing_key(),
    "OIDC_ISS_ENDPOINT": issuer(),
    "PKCE_REQUIRED": True,
    "OAUTH2_VALIDATOR_CLASS": "nexusops.standins.idp.validator.NexusValidator",
    "SCOPES": {
        "openid": "OpenID Connect",
        "email": "Your e-mail",
        "profile": "Your name",
        "groups": "Your groups",
    },
    "ID_TOKEN_EXPIRE_SECONDS": 300,
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
