# ichLinks Harvester: one image for the scheduler and the web service (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# All dependencies ship manylinux wheels (tantivy, lxml, psycopg[binary]): no compiler needed.
COPY . /app
RUN pip install . \
 && useradd --system --uid 10001 --home-dir /app ichlinks \
 && mkdir -p /app/var \
 && chown ichlinks /app/var

USER ichlinks
VOLUME ["/app/var"]
EXPOSE 8000
CMD ["ichlinks", "--help"]
