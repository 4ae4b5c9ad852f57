# nkru-monitor: one process runs the scheduler, the delivery worker and the chat adapters.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    NKRU_DATABASE_URL=sqlite+aiosqlite:////data/nkru.db
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
# Settings come from NKRU_* variables or a mounted nkru.toml (NKRU_CONFIG=/app/nkru.toml).
ENTRYPOINT ["nkru"]
CMD ["run"]
