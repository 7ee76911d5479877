"""Settings for the alert-ingest benchmark only (never production): the site's settings
with ``bench/alerts_bench_urls.py`` as URLconf, which adds a bare JSON endpoint."""

from nexusops.settings import *  # noqa: F403

ROOT_URLCONF = "bench.alerts_bench_urls"
