# The training image the docker runner's tests gate examples in: python 3.11 + torch 2.13.0 (CPU).
# Built by scripts/build-test-images.sh from a locally imported Debian base; the wheels are
# downloaded on the host (pip's local indexes) and copied in, because nothing can be pulled here.
ARG BASE=overfit-gate-test/python:3.11-bookworm
FROM ${BASE}
COPY wheels /tmp/wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels torch==2.13.0 numpy \
 && rm -rf /tmp/wheels
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1
CMD ["python"]
