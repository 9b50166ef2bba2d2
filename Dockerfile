# syntax=docker/dockerfile:1
# The exchange server: wheels built in a builder stage, installed into a virtual
# environment that is copied into a slim runtime running as a non-root user.
#   docker build -t volunteer-exchange .
#   docker run --rm --env-file prod.env volunteer-exchange migrate
#   docker run -d -p 8000:8000 --env-file prod.env volunteer-exchange

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# Compilers only here, for any dependency without a wheel for this platform.
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
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EXCHANGE_MAIL_DIR=/app/mail-out
RUN groupadd --system --gid 10001 exchange \
 && useradd --system --uid 10001 --gid exchange --home-dir /app --no-create-home --shell /usr/sbin/nologin exchange \
 && mkdir -p /app/mail-out \
 && chown -R exchange:exchange /app
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
USER exchange
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["exchange"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
