"""What the docker runner needs before it can start a container: a daemon, the training
image (present, pulled, or built from the project's Dockerfile), the GPU request, and the
harness as a tar archive to copy in. Every failure is a RunnerError that says what to do."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import ConfigError, RunnerError
from gate.runners.base import LogSink

if TYPE_CHECKING:
    from gate.config import Config

# The folder holding the `gate` package; only gate/__init__.py and gate/harness/ are copied in
# (torch + stdlib only, see ARCHITECTURE.md), so the container never sees the controller or its deps.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
NO_GPU_HINT = (
    "set `gpus: 0` to run on the CPU, or run on a machine with an NVIDIA GPU and the NVIDIA Container "
    "Toolkit (`nvidia-ctk runtime configure --runtime=docker`, then restart dockerd)"
)


def connect(env: Mapping[str, str]) -> Any:
    try:
        import docker
    except ImportError:
        raise RunnerError(
            "the docker runner needs the `docker` Python package", hint="pip install 'docker>=7'"
        ) from None
    where = env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(environment=dict(env))
        client.ping()
    except Exception as exc:
        raise RunnerError(
            f"cannot reach a Docker daemon at {where}: {_first_line(exc)}",
            hint="start Docker (e.g. `sudo systemctl start docker`) and make sure this user may use its socket; "
            "in a GitHub container action the runner mounts /var/run/docker.sock for you; "
            "or set `runner: local` to run in the current environment",
        ) from None
    return client


def device_requests(gpus: str) -> list[Any]:
    """``1`` -> any one GPU, ``device=N`` -> that GPU, ``0`` -> none. Exactly one GPU, by design."""
    from docker.types import DeviceRequest

    value = gpus.strip().lower()
    if value in ("0", "none", ""):
        return []
    if value == "1":
        return [DeviceRequest(count=1, capabilities=[["gpu"]])]
    match = re.fullmatch(r"device=([\w-]+)", value)
    if match:
        return [DeviceRequest(device_ids=[match.group(1)], capabilities=[["gpu"]])]
    raise ConfigError(
        f"invalid value for `gpus`: {gpus!r}",
        hint='gpus = "1" (one GPU), "device=2" (that GPU), or "0" (CPU only); the gate uses one GPU',
    )


def is_gpu_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not select device driver" in text or "nvidia" in text or "gpu" in text


def gpu_error(gpus: str, exc: BaseException) -> RunnerError:
    return RunnerError(
        f"`gpus: {gpus}` asked for a GPU, but this Docker host has no NVIDIA GPU runtime "
        f"(gpus: 1 on a machine without GPUs?): {_first_line(exc)}",
        hint=NO_GPU_HINT,
    )


def ensure_image(client: Any, config: Config, workdir: Path, log: LogSink) -> str:
    """The image to run: ``dockerfile`` is built (tagged ``image`` if given), else ``image``
    is used from the local store or pulled."""
    import docker.errors

    image, dockerfile = config.image, config.dockerfile
    if dockerfile:
        return _build(client, workdir, dockerfile, image, log)
    if not image:
        raise ConfigError(
            "the docker runner needs a training image",
            hint='image = "ghcr.io/you/trainer:latest"   or   dockerfile = "docker/train.Dockerfile"',
        )
    try:
        client.images.get(image)
        return image
    except docker.errors.ImageNotFound:
        pass
    log(f"overfit-gate: image {image} not found locally, pulling it")
    try:
        client.images.pull(image)
    except docker.errors.APIError as exc:
        raise RunnerError(
            f"training image {image} is not on this Docker host and could not be pulled: {_first_line(exc)}",
            hint="check the name and tag, `docker login` to its registry, or build it first "
            "(`docker build -t IMAGE .`), or set `dockerfile` to build it from your repository",
        ) from None
    return image


def _build(client: Any, workdir: Path, dockerfile: str, tag: str | None, log: LogSink) -> str:
    path = workdir / dockerfile
    if not path.is_file():
        raise ConfigError(
            f"dockerfile {dockerfile} not found in {workdir}", hint="paths are relative to the working directory"
        )
    # Same project + Dockerfile -> same tag, so the daemon's layer cache makes rebuilds cheap.
    tag = tag or "overfit-gate-build:" + hashlib.sha256(f"{workdir}:{dockerfile}".encode()).hexdigest()[:12]
    log(f"overfit-gate: building {tag} from {dockerfile}")
    error = None
    for chunk in client.api.build(path=str(workdir), dockerfile=str(path), tag=tag, rm=True, decode=True):
        if "stream" in chunk and chunk["stream"].strip():
            log(chunk["stream"].rstrip())
        error = chunk.get("error") or error
    if error:
        raise RunnerError(
            f"building the training image from {dockerfile} failed: {error.strip()}",
            hint=f"run `docker build -f {dockerfile} .` locally to see the whole log",
        )
    return tag


def harness_archive(prefix: str) -> bytes:
    """A tar of gate/__init__.py and gate/harness/**.py under ``prefix`` (relative to /)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        files = [PACKAGE_ROOT / "gate" / "__init__.py", *sorted((PACKAGE_ROOT / "gate" / "harness").rglob("*.py"))]
        dirs = sorted({f.parent for f in files}, key=lambda d: len(d.parts))
        for d in dirs:
            info = tarfile.TarInfo(f"{prefix}/{d.relative_to(PACKAGE_ROOT)}")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for f in files:
            data = f.read_bytes()
            info = tarfile.TarInfo(f"{prefix}/{f.relative_to(PACKAGE_ROOT)}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _first_line(exc: BaseException) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return str(text).strip().splitlines()[0] if str(text).strip() else type(exc).__name__
