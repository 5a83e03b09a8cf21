# syntax=docker/dockerfile:1
#
# Yinling (银龄) container image.
#
#   docker build -t yinling:0.1.0 .
#   docker run --rm -p 8000:8000 yinling:0.1.0 demo --host 0.0.0.0   # embedded mode, no servers needed
#   docker run ... yinling:0.1.0                              # = yinling serve --host 0.0.0.0 --port 8000
#   docker run ... yinling:0.1.0 worker                       # event/job worker
#   docker run ... yinling:0.1.0 db upgrade                   # migrations (owner database role)
#
# Two stages:
#   builder  - installs uv from PyPI and resolves the locked dependencies (uv.lock) into a
#              virtual environment at /opt/yinling/venv; the project itself is installed as a
#              normal (non-editable) wheel, so the venv is self-contained.
#   runtime  - the same slim Python base, plus only the venv, the tenants/ manifests and a
#              constraints file. No compilers, no uv, no build tools, no curl.
#
# The runtime image is meant to run with a read-only root filesystem: the only path that
# must be writable is /tmp (mount an emptyDir there on Kubernetes). HOME and
# YINLING_DATA_DIR point below /tmp. Byte code is compiled at build time, and
# PYTHONDONTWRITEBYTECODE stops Python from trying to write .pyc files at run time.
#
# ---------------------------------------------------------------------------------------------
# Adding a plugin (a pip package that registers the entry-point group `yinling.plugins`):
# build a derived image; never edit this file for a plugin.
#
#   FROM registry.example.gov.cn/yinling/yinling:0.1.0
#   USER root
#   # The base image's pip installs into the application venv; the constraints file pins every
#   # dependency the platform was locked with, so a plugin cannot silently up- or downgrade them.
#   RUN pip --python /opt/yinling/venv/bin/python install --no-cache-dir \
#         --constraint /opt/yinling/constraints.txt \
#         yinling-plugin-example==1.2.0
#   #   (or a wheel you copied in:  COPY dist/*.whl /tmp/wheels/  and install /tmp/wheels/*.whl,
#   #    then  RUN rm -rf /tmp/wheels)
#   USER 10001:10001
#
# uv works as well if you put it in a build stage of the derived image:
#   uv pip install --python /opt/yinling/venv/bin/python --constraint /opt/yinling/constraints.txt PKG
# Then deploy the derived image with Helm; the pre-upgrade migration hook runs `yinling db upgrade`,
# which applies the plugin's own Alembic branch. See docs/operations.md.
# ---------------------------------------------------------------------------------------------

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

############################ builder ############################
FROM ${PYTHON_IMAGE} AS builder

# uv comes from PyPI (no other registries or image hosts are needed to build).
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

ENV UV_PROJECT_ENVIRONMENT=/opt/yinling/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src

# 1) Dependencies only (this layer is reused as long as pyproject.toml and uv.lock do not change).
#    README.md* is a glob so the build does not fail if the readme is absent.
COPY pyproject.toml uv.lock README.md* ./
RUN uv sync --frozen --no-dev --no-install-project

# 2) The application itself, installed as a regular wheel (not editable) into the same venv.
COPY core/ ./core/
COPY plugins/ ./plugins/
COPY tenants/ ./tenants/
RUN uv sync --frozen --no-dev --no-editable \
 && uv export --frozen --no-dev --no-hashes --no-emit-project --format requirements-txt \
        --output-file /opt/yinling/constraints.txt \
 && /opt/yinling/venv/bin/yinling --help > /dev/null

############################ runtime ############################
FROM ${PYTHON_IMAGE} AS runtime

ARG YINLING_VERSION=0.1.0
LABEL org.opencontainers.image.title="yinling" \
      org.opencontainers.image.description="Yinling (银龄) platform for a provincial bureau of retired cadres" \
      org.opencontainers.image.version="${YINLING_VERSION}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/yinling/venv \
    PATH=/opt/yinling/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/tmp \
    TMPDIR=/tmp \
    YINLING_DATA_DIR=/tmp/yinling

# Unprivileged user with a fixed uid/gid (the Helm chart sets runAsUser/runAsGroup 10001).
RUN groupadd --system --gid 10001 yinling \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin yinling

# Everything is owned by root and read-only for the application user.
COPY --from=builder /opt/yinling /opt/yinling
COPY --from=builder /src/tenants /app/tenants

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# Liveness of the web process, without curl: the standard library is enough.
# (Kubernetes ignores HEALTHCHECK and uses the chart's probes. For `worker`, which serves no HTTP,
#  run the container with --no-healthcheck or `healthcheck: {disable: true}` in compose.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["yinling"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
