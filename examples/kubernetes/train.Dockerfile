# A CPU training image for the kubernetes runner's end-to-end job (.github/workflows/ci.yml,
# kubernetes-e2e): torch and nothing else, as a non-root user. Yours has your dependencies.
FROM python:3.11-slim
RUN pip install --no-cache-dir "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
USER 1000:1000
