# The gate's own image: the controller, report rendering and the docker SDK, used by the GitHub
# container action (action.yml). It does NOT contain torch: training runs in the user's image,
# started as a sibling container through the Docker socket (runner: docker).
#
# Releases publish it to GHCR (.github/workflows/release.yml); action.yml points at that tag, so
# users pull it instead of rebuilding it on every run.
#
#   docker build -t overfit-gate .
#   docker run --rm overfit-gate --version
#
# BASE is an ARG so tests (and air-gapped builds) can use a locally built Python 3.11 image.
# Offline builds: put wheels in requirements/wheels/ and pip uses only those.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# Labelled too, so `docker image prune --filter label=...` finds the untagged build stage.
LABEL org.opencontainers.image.title="overfit-gate"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Dependencies first (pinned, requirements/action.txt): this layer is reused until they change.
COPY requirements/ /tmp/requirements/
RUN set -eu; \
    if [ -d /tmp/requirements/wheels ]; then set -- --no-index --find-links /tmp/requirements/wheels; fi; \
    python -m venv /opt/overfit-gate; \
    /opt/overfit-gate/bin/pip install "$@" -r /tmp/requirements/action.txt
COPY pyproject.toml README* /src/
COPY gate/ /src/gate/
RUN set -eu; \
    if [ -d /tmp/requirements/wheels ]; then set -- --no-index --find-links /tmp/requirements/wheels; fi; \
    /opt/overfit-gate/bin/pip install "$@" --no-deps /src; \
    find /opt/overfit-gate -name __pycache__ -prune -exec rm -rf {} +

FROM ${BASE}
LABEL org.opencontainers.image.title="overfit-gate" \
      org.opencontainers.image.description="CI gate: prove a training pipeline can overfit one batch and has no silent bugs" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/overfit-gate /opt/overfit-gate
ENV PATH=/opt/overfit-gate/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 MPLBACKEND=Agg \
    MPLCONFIGDIR=/tmp/matplotlib
# No USER: GitHub runs container actions as root (a USER here loses access to /github/workspace
# and the Docker socket). The gate drops privileges where it matters: the training container runs
# as the owner of the workspace, and the report folder is handed back to that owner.
# A one-shot CLI has no service to probe; this proves the install works (`docker inspect` health).
HEALTHCHECK --interval=30s --timeout=10s --retries=1 CMD ["overfit-gate", "--version"]
ENTRYPOINT ["python", "-m", "gate.action"]
