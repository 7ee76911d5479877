# Production image: granian for web, the same image runs the worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 NEXUSOPS_MODE=production
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY nexusops ./nexusops
COPY incidents ./incidents
COPY chat ./chat
COPY oncall ./oncall
COPY statuspage ./statuspage
COPY remediation ./remediation
COPY postmortems ./postmortems
COPY deployments ./deployments
COPY alerts ./alerts
COPY accounts ./accounts
COPY reports ./reports
COPY monitoring ./monitoring
RUN pip install --no-cache-dir .
COPY . .
# collectstatic needs settings to load; these throwaway values never reach a running container.
RUN SECRET_KEY=build-only-$(python -c "import secrets;print(secrets.token_urlsafe(60))") \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@localhost/build \
    CELERY_BROKER_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput
# The web server and celery import the project from /app, and PYTHONDONTWRITEBYTECODE keeps them
# from caching bytecode: without this every process start compiles each module from source
# again (0.2-0.3 s of CPU for django.setup() alone, paid by every restarted worker; issue 15).
RUN python -m compileall -q -x '(^|/)(\.venv|var|tests|bench)/' .
RUN useradd --system --uid 1001 nexusops
USER nexusops
EXPOSE 8000
# granian (nexusops/serve.py): metrics added up across its workers, its own lines in JSON.
CMD ["python", "-m", "nexusops.serve", "--bind", "0.0.0.0:8000"]
