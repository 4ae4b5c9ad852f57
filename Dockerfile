# nkru-monitor: one process runs the scheduler, the delivery worker and the chat adapters.
# Both stages install hash-checked pins from requirements/*.lock: the image runs the versions
# CI tested. The base is pinned to the Python CI runs on.
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements/build.lock requirements/run.lock requirements/
RUN pip install --require-hashes --no-deps -r requirements/build.lock \
    && python -m venv /opt/nkru \
    && /opt/nkru/bin/pip install --require-hashes --no-deps -r requirements/run.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/nkru/bin/pip install --no-deps /wheels/*.whl \
    && /opt/nkru/bin/pip check

FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/nkru/bin:$PATH \
    NKRU_DATABASE_URL=sqlite+aiosqlite:////data/nkru.db \
    NKRU_HTTP_HOST=0.0.0.0 NKRU_HTTP_PORT=8080
# libpq: psycopg (procrastinate's driver, the job queue on PostgreSQL) loads it when imported,
# and `nkru run` imports it whatever the database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin nkru \
    && mkdir -p /app /data && chown nkru /data
WORKDIR /app
COPY --from=build /opt/nkru /opt/nkru
COPY seeds ./seeds
COPY watchlists ./watchlists

USER nkru
VOLUME ["/data"]
# /healthz (and /slack/events in Slack HTTP mode)
EXPOSE 8080
# Asks the port the bot listens on, also when NKRU_HTTP_PORT is changed at `docker run -e`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('NKRU_HTTP_PORT', '8080'), timeout=4)"]
# Settings come from NKRU_* variables or a mounted nkru.toml (NKRU_CONFIG=/app/nkru.toml).
ENTRYPOINT ["nkru"]
CMD ["run"]
