# syntax=docker/dockerfile:1
# The exchange server: wheels built in a builder stage, installed into a virtual
# environment that is copied into a slim runtime running as a non-root user.
# The image starts in production mode: it refuses to serve until the settings below are
# given (README, "Deployment"), and it never migrates on its own.
#   docker build -t volunteer-exchange .
#   docker run --rm --env-file prod.env volunteer-exchange migrate
#   docker run -d -p 8000:8000 --env-file prod.env volunteer-exchange
# prod.env: EXCHANGE_DATABASE_URL, EXCHANGE_SECRET_KEY, EXCHANGE_PUBLIC_URL, EXCHANGE_SMTP_HOST.
# tests/deploy/test_dockerfile.py replays these steps outside a container engine: keep every
# install step a RUN of this file.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# Compilers only here, for any dependency without a wheel for this platform. Not pinned:
# Debian's security updates within the release are wanted.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY exchange ./exchange
COPY schema ./schema
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip wheel --wheel-dir /wheels . \
 && /opt/venv/bin/pip install --no-index --find-links /wheels volunteer-exchange \
 && /opt/venv/bin/exchange export-schema > /dev/null

FROM ${PYTHON_IMAGE} AS runtime
# Production unless told otherwise. `serve` reads its interface from EXCHANGE_HOST and its
# port from PORT, so `docker run IMAGE serve --workers 4` (a CMD of one's own) still listens
# on every interface, and a platform that assigns PORT is obeyed, health check included.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EXCHANGE_MODE=production \
    EXCHANGE_HOST=0.0.0.0 \
    PORT=8000 \
    EXCHANGE_MAIL_DIR=/app/mail-out
RUN groupadd --system --gid 10001 exchange \
 && useradd --system --uid 10001 --gid exchange --home-dir /app --no-create-home --shell /usr/sbin/nologin exchange \
 && mkdir -p /app/mail-out \
 && chown -R exchange:exchange /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["exchange"]
CMD ["serve"]
