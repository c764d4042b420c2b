# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=audit_platform.settings.production \
    AUDIT_DATA_DIR=/data \
    AUDIT_STORAGE_DIR=/data/storage \
    SEMGREP_BIN=/app/.tools/semgrep/bin/semgrep

# git: the worker clones repositories with GitPython. Pango/HarfBuzz + fonts: WeasyPrint's PDF
# reports. Chromium: kaleido renders the report charts with it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core chromium \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv \
    && useradd --create-home --uid 1000 audit \
    && mkdir -p /data && chown audit /data

WORKDIR /app

# Dependencies first, from the lock file, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev \
    && if [ -f scripts/install-semgrep ]; then bash scripts/install-semgrep; fi \
    && DJANGO_SECRET_KEY=collectstatic-only DJANGO_STATIC_ROOT=/app/staticfiles AUDIT_DATA_DIR=/tmp/build \
       python manage.py collectstatic --noinput --verbosity 0

ENV DJANGO_STATIC_ROOT=/app/staticfiles
USER audit
EXPOSE 8000
CMD ["gunicorn", "audit_platform.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
