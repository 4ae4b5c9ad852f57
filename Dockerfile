# nkru-monitor: one process runs the scheduler, the delivery worker and the chat adapters.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    NKRU_DATABASE_URL=sqlite+aiosqlite:////data/nkru.db \
    NKRU_HTTP_HOST=0.0.0.0 NKRU_HTTP_PORT=8080
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN pip install --no-cache-dir . && useradd --system --home /app nkru && mkdir /data \
    && chown nkru /data
COPY seeds ./seeds
COPY watchlists ./watchlists

USER nkru
VOLUME ["/data"]
# /healthz (and /slack/events in Slack HTTP mode)
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"
# Settings come from NKRU_* variables or a mounted nkru.toml (NKRU_CONFIG=/app/nkru.toml).
ENTRYPOINT ["nkru"]
CMD ["run"]
