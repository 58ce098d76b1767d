# syntax=docker/dockerfile:1
# The `chatpulse` image: every ChatPulse command (ingest, enrich, sink, dashboard, db, report...).
#
#   docker build -t chatpulse .                                  # lexicon sentiment (small image)
#   docker build -t chatpulse:transformer --build-arg EXTRAS=transformer .   # + ONNX transformer
#   docker build -t chatpulse:torch --build-arg EXTRAS=torch .               # + PyTorch (large)
#
# Two stages: `build` compiles a wheel and installs it with its dependencies into /opt/venv;
# `runtime` copies only that virtual environment onto a clean python:3.11-slim, so compilers,
# pip caches and the source tree never reach the final image.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
# Optional extras from pyproject.toml, comma-separated (transformer, torch); empty = core only.
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A C compiler for the optional IRC parser accelerator (setup.py); only this stage has it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY chatpulse ./chatpulse
RUN pip install --upgrade pip build \
    && python -m build --wheel --outdir /tmp/dist . \
    && wheel="$(ls /tmp/dist/chatpulse-*.whl)" \
    && if [ -n "$EXTRAS" ]; then pip install "${wheel}[${EXTRAS}]"; else pip install "$wheel"; fi \
    && pip uninstall -y build \
    && chatpulse --version

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="chatpulse" \
      org.opencontainers.image.description="Real-time analytics for Twitch chat" \
      org.opencontainers.image.licenses="MIT"
# A fixed uid/gid so mounted volumes can be chowned predictably from the host.
RUN groupadd --system --gid 10001 chatpulse \
    && useradd --system --uid 10001 --gid chatpulse --home-dir /home/chatpulse --create-home chatpulse \
    && mkdir -p /data /spool \
    && chown chatpulse:chatpulse /data /spool
COPY --from=build /opt/venv /opt/venv
COPY deploy/docker/healthcheck.py /usr/local/bin/chatpulse-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_CACHE_HOME=/home/chatpulse/.cache \
    CHATPULSE_STORE=chdb:///data/chatpulse \
    HEALTHCHECK_URL=http://127.0.0.1:9100/healthz
USER chatpulse
WORKDIR /home/chatpulse
VOLUME ["/data"]
EXPOSE 8080 9100
# Long-running commands serve /healthz on their --metrics-port (9100 in docker-compose.yml);
# a service on another port sets HEALTHCHECK_URL. Only the standard library is used, so the
# check works in the slim image without curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/bin/chatpulse-healthcheck"]
ENTRYPOINT ["chatpulse"]
CMD ["--help"]
