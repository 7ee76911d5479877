"""NexusOps settings, read from the environment (12-factor).

Two modes, chosen by NEXUSOPS_MODE:

* ``embedded`` (the default): SQLite, a Celery broker on the local filesystem that needs
  no server, local stand-ins for every vendor, DEBUG on. ``make run`` uses it.
* ``production``: every secret and endpoint comes from the environment; a missing or
  malformed one stops start-up with one line naming the variable.

DATABASE_URL and CELERY_BROKER_URL may also be set in embedded mode; the test suite does so
to run against PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from urllib.parse import urlparse

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def _config_error(variable: str, problem: str) -> None:
    # SystemExit with a string prints exactly one line to stderr and exits 1: no traceback.
    raise SystemExit(f"NexusOps configuration error: {variable} {problem}")


MODE = env.str("NEXUSOPS_MODE", default="embedded").strip().lower()
if MODE not in ("embedded", "production"):
    _config_error("NEXUSOPS_MODE", f"must be 'embedded' or 'production', not {MODE!r}")
PRODUCTION = MODE == "production"
EMBEDDED = not PRODUCTION

VAR_DIR = Path(env.str("NEXUSOPS_VAR_DIR", default=str(BASE_DIR / "var")))


def _required(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        _config_error(name, "is required in production mode")
    return value


# --- core -------------------------------------------------------------------------------
if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        _config_error("SECRET_KEY", "must be at least 50 random characters")
    ALLOWED_HOSTS = [h.strip() for h in _required("ALLOWED_HOSTS").split(",") if h.strip()]
    DEBUG = False
else:
    SECRET_KEY = env.str("SECRET_KEY", default="embedded-mode-only-not-a-secret-0123456789abcdef")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
    DEBUG = env.bool("DEBUG", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "djangosaml2",
    "nexusops.common",
    "nexusops.engine",
    # Apps are layered: each may import the ones above it in this list, never below.
    "incidents",
    "chat",
    # On-call (escalation, rotations, pay): reacts to incidents' events, never imported by them.
    "oncall",
    "statuspage",
    "remediation",
    "postmortems",
    "deployments",
    "alerts",
    # Single sign-on and personal API tokens; above incidents (it fills Profile links).
    "accounts",
    # Disaster-recovery drills (runbook 4.4); reports reads their results.
    "drills",
    "reports",
    # Reads the engine, incidents and alerts at once (/metrics), so it comes last.
    "monitoring",
]

MIDDLEWARE = [
    # First: every response, redirects and errors too, gets the request id and is counted.
    "nexusops.common.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The alert webhooks answer here: request id, metrics and HTTPS only (alerts/middleware.py).
    "alerts.middleware.IntakeMiddleware",
    "nexusops.common.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The SAML sign-in's own session cookie (SameSite=None: the provider POSTs back to us).
    "djangosaml2.middleware.SamlSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "nexusops.common.middleware.ApiErrorMiddleware",
    "nexusops.common.middleware.LoginRequiredMiddleware",
    "nexusops.common.middleware.UserTimezoneMiddleware",
    # Last, as django-axes asks: it turns a lockout into the "locked" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nexusops.urls"
WSGI_APPLICATION = "nexusops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "nexusops.common.context_processors.console",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- database -----------------------------------------------------------------------------
if PRODUCTION:
    _db_url = _required("DATABASE_URL")
    if urlparse(_db_url).scheme not in ("postgres", "postgresql", "pgsql"):
        _config_error("DATABASE_URL", "must be a postgres:// URL in production mode")
_default_db = f"sqlite:///{VAR_DIR / 'nexusops.sqlite3'}"
try:
    DATABASES = {"default": env.db_url("DATABASE_URL", default=_default_db)}
except (environ.ImproperlyConfigured, ValueError, KeyError) as exc:
    _config_error("DATABASE_URL", f"is malformed ({exc})")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, for tests too: a real worker process must see what a test wrote.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-nexusops.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # Checked at the first query of each request; the alert webhooks skip Django's request
    # machinery (alerts/wsgi.py), so their group commit (alerts/services/group_commit.py)
    # pays no health check.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The longest a statement may run or wait for a lock, in seconds (0: no limit). The web
    # server sets it for its own processes (python -m nexusops.serve --statement-timeout,
    # WEB_STATEMENT_TIMEOUT, 30 s), so a request stuck behind a lock gives its thread back
    # with a 503 instead of holding it; workers, beat and migrate keep no limit.
    _raw_timeout = env.str("DATABASE_STATEMENT_TIMEOUT", default="0").strip() or "0"
    if not _raw_timeout.isdigit():
        _config_error("DATABASE_STATEMENT_TIMEOUT", f"must be whole seconds, not {_raw_timeout!r}")
    if int(_raw_timeout):
        _db_options = DATABASES["default"].setdefault("OPTIONS", {})
        _db_options["options"] = (
            f"{_db_options.get('options', '')} -c statement_timeout={int(_raw_timeout) * 1000}"
        ).strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before the password is even checked.
    "nexusops.common.signin.LockoutBackend",
    # Passwords, unless SSO_LOCAL_PASSWORDS is off (then superusers only: the break-glass).
    "accounts.backends.LocalPasswordBackend",
    # Loads people signed in through OpenID Connect; never checks a password.
    "accounts.oidc.OidcBackend",
    # A verified SAML assertion (djangosaml2's response check) signs its person in.
    "accounts.saml.SamlBackend",
]
# Sign-in lockout (issue 14): see nexusops/common/signin.py for the policy.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_COOLOFF_TIME = "nexusops.common.signin.lockout_cool_off"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "nexusops.common.signin.lockout_response"
AXES_VERBOSE = False
# Behind the production proxy the client's address is the first X-Forwarded-For entry.
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=1) if PRODUCTION else None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if PRODUCTION else ["REMOTE_ADDR"]
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- single sign-on (accounts/): see README "Single sign-on" ---------------------------------
# Local passwords: off in production once SSO works; a superuser can still use one (break-glass).
SSO_LOCAL_PASSWORDS = env.bool("SSO_LOCAL_PASSWORDS", default=True)
# Identity-provider group -> console role; a person gets the roles of their groups at every
# sign-in and loses the ones whose group they left. "group=Role" pairs, comma-separated.
SSO_GROUP_ROLES = env.str(
    "SSO_GROUP_ROLES",
    default=(
        "nexus-managers=Manager,nexus-incident-commanders=Incident Commander,"
        "nexus-responders=Responder,nexus-stakeholders=Stakeholder"
    ),
)
# How long to wait for a provider (discovery, token, JWKS, userinfo), in seconds.
SSO_TIMEOUT_SECONDS = env.float("SSO_TIMEOUT_SECONDS", default=5.0)
# OpenID Connect providers: OIDC_PROVIDERS lists slugs; each slug reads OIDC_<SLUG>_NAME,
# _ISSUER, _CLIENT_ID, _CLIENT_SECRET and optionally _GROUPS_CLAIM and _SCOPES (README).


def _oidc_providers(defaults: dict[str, str]) -> list[dict[str, str]]:
    slugs = env.str("OIDC_PROVIDERS", default=defaults.get("OIDC_PROVIDERS", ""))
    providers = []
    for slug in [s.strip().lower() for s in slugs.split(",") if s.strip()]:
        if not slug.isidentifier():
            _config_error("OIDC_PROVIDERS", f"has {slug!r}: use letters, digits and _")
        prefix = f"OIDC_{slug.upper()}_"

        def var(name: str, default: str = "", prefix: str = prefix) -> str:
            return env.str(prefix + name, default=defaults.get(prefix + name, default)).strip()

        provider = {
            "slug": slug,
            "name": var("NAME", slug.title()),
            "issuer": var("ISSUER").rstrip("/"),
            "client_id": var("CLIENT_ID"),
            "client_secret": var("CLIENT_SECRET"),
            "groups_claim": var("GROUPS_CLAIM", "groups"),
            "scopes": var("SCOPES", "openid email profile groups"),
        }
        for key in ("issuer", "client_id", "client_secret"):
            if not provider[key]:
                _config_error(
                    prefix + key.upper(), f"is required when {slug!r} is in OIDC_PROVIDERS"
                )
        providers.append(provider)
    return providers


# --- i18n / time: store UTC, show the user's zone ----------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
ONCALL_HANDOFF_TIME_ZONE = "America/Los_Angeles"

# --- static -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Subscribe POSTs one client address may make in 10 minutes (the public status page).
STATUS_SUBSCRIBE_PER_CLIENT = env.int("STATUS_SUBSCRIBE_PER_CLIENT", default=10)

# --- cache (throttle counters) ------------------------------------------------------------
# Per process by default; set CACHE_URL=redis://... so every web process shares the counters.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- email --------------------------------------------------------------------------------
if PRODUCTION:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
    vars().update(EMAIL_CONFIG)
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="nexusops@localhost")

# --- security (production) ------------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and Prometheus talk to the pod over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere (issue 14): scripts are static files. Inline *styles* stay allowed
# (a few style attributes, and htmx's indicator stylesheet); they cannot run code.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SECURE_REFERRER_POLICY = "same-origin"

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous API call gets 401 with a WWW-Authenticate header.
        # A person's own token (nxp_...) first; any other key is an integration token.
        "accounts.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "nexusops.common.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "nexusops.common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "nexusops.common.api.exception_handler",
    # Alert intake (/api/alerts/<vendor>/) is not a DRF view and is never throttled: a storm
    # of alerts must not be dropped. Everything else is, per account and per address.
    "DEFAULT_THROTTLE_CLASSES": [
        "nexusops.common.signin.ApiUserThrottle",
        "nexusops.common.signin.ApiAnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NexusOps API",
    "DESCRIPTION": "Incident command for the NEXUS platform: incidents, timeline, deployments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Several models have a "status"; name each enum after its owner.
    "ENUM_NAME_OVERRIDES": {
        "IncidentStatusEnum": "incidents.models.incident.Status",
        "DeploymentStatusEnum": "deployments.models.deployment.Status",
        "MaintenanceStatusEnum": "deployments.models.maintenance.MaintenanceWindow.Status",
    },
}

# --- Celery -------------------------------------------------------------------------------
if PRODUCTION:
    CELERY_BROKER_URL = _required("CELERY_BROKER_URL")
    if urlparse(CELERY_BROKER_URL).scheme not in ("redis", "rediss", "amqp", "amqps"):
        _config_error("CELERY_BROKER_URL", "must be a redis:// (or amqp://) URL in production mode")
else:
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
# The longest countdown any task is scheduled with; retry backoff is capped below it.
CELERY_MAX_COUNTDOWN = 3600
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The serverless broker of embedded mode: messages are files a real worker consumes.
    for _sub in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / _sub).mkdir(parents=True, exist_ok=True)
    # kombu's own, except that a message file appears only when whole (nexusops/fsbroker.py).
    CELERY_BROKER_TRANSPORT = "nexusops.fsbroker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Its exchange tables too: kombu's default is ./control, inside the checkout.
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
else:
    # Redis redelivers a message not acked within this window. It must exceed the longest
    # task and the longest countdown, or such a message would run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, CELERY_MAX_COUNTDOWN) + 600,
        "socket_timeout": 10,
        "socket_connect_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Sweeps that act on timers stored as rows (DESIGN.md rule 4); apps add their entries.
CELERY_BEAT_SCHEDULE: dict = {
    "timers-sweep": {
        "task": "nexusops.engine.tasks.timers_sweep_task",
        "schedule": env.float("TIMERS_SWEEP_SECONDS", default=2.0),
        "options": {"expires": 30},
    },
}
CELERY_BEAT_SCHEDULE["outbox-relay"] = {
    "task": "nexusops.engine.tasks.outbox_relay_task",
    "schedule": env.float("OUTBOX_RELAY_SECONDS", default=10.0),
    "options": {"expires": 60},
}
CELERY_BEAT_SCHEDULE["remediation-runs-relay"] = {
    # Re-dispatches runs the broker lost and deals with runs whose worker stopped beating.
    "task": "remediation.tasks.action_runs_relay_task",
    "schedule": env.float("REMEDIATION_RELAY_SECONDS", default=10.0),
    "options": {"expires": 60},
}
CELERY_TASK_ROUTES = {
    "nexusops.engine.tasks.outbox_deliver_task": {"queue": "notifications"},
    "remediation.tasks.action_run_task": {"queue": "remediation"},
}
# How long one delivery attempt may take before another worker assumes it died mid-call.
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=120)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=10)
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=2.0)
# The longest wait between two attempts (a vendor back after an outage is tried this soon).
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=600.0)
OUTBOX_RELAY_GRACE_SECONDS = env.int("OUTBOX_RELAY_GRACE_SECONDS", default=5)
# A timer whose handler fails backs off (base · 2^n, capped) and stops after this many tries.
TIMER_MAX_ATTEMPTS = env.int("TIMER_MAX_ATTEMPTS", default=8)
TIMER_BACKOFF_BASE_SECONDS = env.float("TIMER_BACKOFF_BASE_SECONDS", default=5.0)
TIMER_BACKOFF_MAX_SECONDS = env.float("TIMER_BACKOFF_MAX_SECONDS", default=900.0)
# The sweep's longest wait for a row lock; below PostgreSQL's deadlock_timeout (1 s).
TIMERS_LOCK_TIMEOUT_MS = env.int("TIMERS_LOCK_TIMEOUT_MS", default=500)
# Due timers one sweep transaction claims and fires (of as many different subjects).
TIMERS_SWEEP_BATCH = env.int("TIMERS_SWEEP_BATCH", default=25)
CELERY_BEAT_SCHEDULE["alerts-sweep"] = {
    # Processes alerts whose task never reached the broker, and ends flapping/silences.
    "task": "alerts.tasks.alerts_sweep_task",
    "schedule": env.float("ALERTS_SWEEP_SECONDS", default=10.0),
    "options": {"expires": 30},
}
# Runbook 6.2: warnings go to this Slack channel (id); empty means no warning posts.
SLACK_ALERTS_CHANNEL = env.str("SLACK_ALERTS_CHANNEL", default="")
ALERTS_NEW_INCIDENTS_PER_MINUTE = env.int("ALERTS_NEW_INCIDENTS_PER_MINUTE", default=5)
ALERTS_FLAP_WINDOW_MINUTES = env.int("ALERTS_FLAP_WINDOW_MINUTES", default=10)
ALERTS_FLAP_CHANGES = env.int("ALERTS_FLAP_CHANGES", default=4)
INCIDENT_MONITORING_MINUTES = env.int("INCIDENT_MONITORING_MINUTES", default=30)

# --- integrations -------------------------------------------------------------------------
# Each adapter is off when its URL or secret is unset; `make run` points them at stand-ins.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# `make run` sets NEXUSOPS_STANDINS=1: every vendor defaults to the local stand-ins then.
STANDINS = EMBEDDED and env.bool("NEXUSOPS_STANDINS", default=False)
if STANDINS:
    from nexusops.standins.demo import settings_defaults

    _vendor_defaults = settings_defaults(VAR_DIR)
    for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(_name, "testing")  # moto accepts any credentials
else:
    _vendor_defaults = {}


def _vendor(name: str) -> str:
    return env.str(name, default=_vendor_defaults.get(name, ""))


# Which chat providers get a channel per incident: "slack" (default), "mattermost",
# "slack,teams" … (nexusops/integrations/chat/registry.py lists them; an unknown one refuses
# to start).
NEXUSOPS_CHAT = env.str("NEXUSOPS_CHAT", default="slack")
# Mattermost (API v4): the server's base URL, a bot account's token, the team channels go in,
# and the secrets inbound requests carry (slash command token, button context HMAC key,
# outgoing webhook token).
MATTERMOST_URL = _vendor("MATTERMOST_URL")
MATTERMOST_TOKEN = _vendor("MATTERMOST_TOKEN")
MATTERMOST_TEAM_ID = _vendor("MATTERMOST_TEAM_ID")
MATTERMOST_SLASH_TOKEN = _vendor("MATTERMOST_SLASH_TOKEN")
MATTERMOST_ACTION_SECRET = _vendor("MATTERMOST_ACTION_SECRET")
MATTERMOST_OUTGOING_TOKEN = _vendor("MATTERMOST_OUTGOING_TOKEN")
SLACK_API_URL = _vendor("SLACK_API_URL")
SLACK_BOT_TOKEN = _vendor("SLACK_BOT_TOKEN")
SLACK_SIGNING_SECRET = _vendor("SLACK_SIGNING_SECRET")
# Runbook 2.2 step 3, "notify stakeholders via Slack": where declarations are announced.
SLACK_ANNOUNCE_CHANNEL = _vendor("SLACK_ANNOUNCE_CHANNEL")
# Hours after close before each chat's incident channel is archived (every provider).
# SLACK_ARCHIVE_AFTER_HOURS, its name from before Mattermost and Teams, still works.
CHAT_ARCHIVE_AFTER_HOURS = env.float(
    "CHAT_ARCHIVE_AFTER_HOURS", default=env.float("SLACK_ARCHIVE_AFTER_HOURS", default=24.0)
)
SLACK_ARCHIVE_AFTER_HOURS = CHAT_ARCHIVE_AFTER_HOURS
# A `!timeline` message or pin reaction from a Slack user with no linked NexusOps account is
# refused (an ephemeral "link your account" reply). True records it as a note by the system.
SLACK_ALLOW_UNLINKED_NOTES = env.bool("SLACK_ALLOW_UNLINKED_NOTES", default=False)
SSO_OIDC_PROVIDERS = _oidc_providers(_vendor_defaults)
# SAML 2.0: the identity provider's metadata URL turns it on; the login page then offers
# "Sign in with SAML_NAME". This console's entity id defaults to its metadata URL.
SAML_IDP_METADATA_URL = env.str("SAML_IDP_METADATA_URL", default="")
SAML_NAME = env.str("SAML_NAME", default="SAML")
SAML_EMAIL_ATTRIBUTE = env.str("SAML_EMAIL_ATTRIBUTE", default="mail")
SAML_GROUPS_ATTRIBUTE = env.str("SAML_GROUPS_ATTRIBUTE", default="groups")
SAML_SP_ENTITY_ID = env.str("SAML_SP_ENTITY_ID", default=f"{SITE_URL.rstrip('/')}/saml2/metadata/")
SAML_CONFIG: dict = {}
if SAML_IDP_METADATA_URL:
    from accounts.saml_config import sp_config

    SAML_CONFIG = sp_config(
        metadata_url=SAML_IDP_METADATA_URL,
        entity_id=SAML_SP_ENTITY_ID,
        site_url=SITE_URL.rstrip("/"),
    )
SAML_SESSION_COOKIE_SAMESITE = "None"
SAML_CSP_HANDLER = ""  # ContentSecurityPolicyMiddleware already sets ours on every page
SAML_CREATE_UNKNOWN_USER = True
PAGERDUTY_EVENTS_URL = _vendor("PAGERDUTY_EVENTS_URL")
PAGERDUTY_API_URL = _vendor("PAGERDUTY_API_URL")
PAGERDUTY_ROUTING_KEY = _vendor("PAGERDUTY_ROUTING_KEY")
PAGERDUTY_API_TOKEN = _vendor("PAGERDUTY_API_TOKEN")
PAGERDUTY_FROM_EMAIL = _vendor("PAGERDUTY_FROM_EMAIL")
PAGERDUTY_WEBHOOK_SECRET = _vendor("PAGERDUTY_WEBHOOK_SECRET")
PAGERDUTY_CA_BUNDLE = _vendor("PAGERDUTY_CA_BUNDLE")
# The PagerDuty service an escalation's person-to-person page is opened on (REST API).
PAGERDUTY_SERVICE_ID = _vendor("PAGERDUTY_SERVICE_ID")
STATUSPAGE_API_URL = _vendor("STATUSPAGE_API_URL")
STATUSPAGE_API_KEY = _vendor("STATUSPAGE_API_KEY")
STATUSPAGE_PAGE_ID = _vendor("STATUSPAGE_PAGE_ID")
# Microsoft Teams (issue 19): one Entra ID app that is both the Graph app and the bot.
TEAMS_TENANT_ID = _vendor("TEAMS_TENANT_ID")
TEAMS_APP_ID = _vendor("TEAMS_APP_ID")
TEAMS_APP_PASSWORD = _vendor("TEAMS_APP_PASSWORD")
TEAMS_TEAM_ID = _vendor("TEAMS_TEAM_ID")
TEAMS_LOGIN_URL = env.str(
    "TEAMS_LOGIN_URL",
    default=_vendor_defaults.get("TEAMS_LOGIN_URL", "https://login.microsoftonline.com"),
)
TEAMS_GRAPH_URL = env.str(
    "TEAMS_GRAPH_URL",
    default=_vendor_defaults.get("TEAMS_GRAPH_URL", "https://graph.microsoft.com/v1.0"),
)
TEAMS_SERVICE_URL = env.str(
    "TEAMS_SERVICE_URL",
    default=_vendor_defaults.get("TEAMS_SERVICE_URL", "https://smba.trafficmanager.net/teams/"),
)
TEAMS_BOT_TENANT = env.str("TEAMS_BOT_TENANT", default="botframework.com")
TEAMS_OPENID_URL = env.str(
    "TEAMS_OPENID_URL",
    default=_vendor_defaults.get(
        "TEAMS_OPENID_URL", "https://login.botframework.com/v1/.well-known/openidconfiguration"
    ),
)
TEAMS_BOT_ISSUER = env.str("TEAMS_BOT_ISSUER", default="https://api.botframework.com")
KUBERNETES_API_URL = _vendor("KUBERNETES_API_URL")
KUBERNETES_TOKEN = _vendor("KUBERNETES_TOKEN")
KUBERNETES_VERIFY_SSL = env.bool("KUBERNETES_VERIFY_SSL", default=True)
KUBECONFIG = env.str("KUBECONFIG", default="")
KUBERNETES_NAMESPACE = env.str("KUBERNETES_NAMESPACE", default="nexus-production")
ARGOCD_URL = _vendor("ARGOCD_URL")
ARGOCD_TOKEN = _vendor("ARGOCD_TOKEN")
ARGOCD_VERIFY_SSL = env.bool("ARGOCD_VERIFY_SSL", default=True)
AWS_ENDPOINT_URL = _vendor("AWS_ENDPOINT_URL")
AWS_REGION = env.str("AWS_REGION", default="us-east-1")
# Remediation's read-only checks and backups (runbook 2.3, 4, 5; Appendix A).
REMEDIATION_POSTGRES_URL = env.str("REMEDIATION_POSTGRES_URL", default="")
REMEDIATION_REDIS_URL = env.str("REMEDIATION_REDIS_URL", default="")
BACKUP_BUCKET = env.str("BACKUP_BUCKET", default="nexus-backups")
# The database pg.restore_from_s3 loads a backup into (runbook 1.2 rollback, 4.2); empty = off.
REMEDIATION_RESTORE_DATABASE_URL = env.str("REMEDIATION_RESTORE_DATABASE_URL", default="")
APPROVAL_TTL_MINUTES = env.int("APPROVAL_TTL_MINUTES", default=30)
# The SaaS health checks (runbook 5.1, 5.3, 5.4) and the MongoDB backup (4.1); unset = off.
SENDGRID_API_URL = _vendor("SENDGRID_API_URL")
SENDGRID_API_KEY = _vendor("SENDGRID_API_KEY")
STRIPE_API_URL = _vendor("STRIPE_API_URL")
STRIPE_API_KEY = _vendor("STRIPE_API_KEY")
OAUTH_CHECK_ISSUER = _vendor("OAUTH_CHECK_ISSUER")
OAUTH_CHECK_CLIENT_ID = _vendor("OAUTH_CHECK_CLIENT_ID")
OAUTH_CHECK_CLIENT_SECRET = _vendor("OAUTH_CHECK_CLIENT_SECRET")
OAUTH_CHECK_INTROSPECTION_URL = _vendor("OAUTH_CHECK_INTROSPECTION_URL")
REMEDIATION_MONGODB_URL = env.str("REMEDIATION_MONGODB_URL", default="")

# --- monitoring (/metrics) -------------------------------------------------------------------
# A bearer token (comma-separated while rotating) or the networks a scraper may come from.
METRICS_TOKENS = [t.strip() for t in env.str("METRICS_TOKEN", default="").split(",") if t.strip()]
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(n.strip(), strict=False)
        for n in env.str(
            "METRICS_ALLOWED_NETWORKS", default="" if PRODUCTION else "127.0.0.0/8,::1/128"
        ).split(",")
        if n.strip()
    ]
except ValueError as exc:
    _config_error("METRICS_ALLOWED_NETWORKS", f"is malformed ({exc})")

# --- logs: one JSON object a line in production, with the request id and incident --------------
LOG_FORMAT = env.str("NEXUSOPS_LOG_FORMAT", default="json" if PRODUCTION else "plain").lower()
if LOG_FORMAT not in ("json", "plain"):
    _config_error("NEXUSOPS_LOG_FORMAT", f"must be 'json' or 'plain', not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "nexusops.common.logs.ContextFilter"}},
    "formatters": {
        "plain": {"()": "nexusops.common.logs.PlainFormatter"},
        "json": {"()": "nexusops.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per request in production; runserver already prints one in embedded mode.
        "nexusops.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
    },
}

if EMBEDDED:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
