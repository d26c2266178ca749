"""One training container, from create to remove, as a context manager — the way cibuildwheel's
``OCIContainer`` owns its container. Entering creates it and copies the harness in; leaving the
block removes it, whatever ended the block: the run, an error, a timeout or a cancel. The
docker runner never holds a container this class will not remove."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from gate.errors import RunnerError
from gate.runners.docker_setup import gpu_error, is_gpu_error

STOP_GRACE_S = 5  # SIGTERM lets the harness write a 'cancelled' result before SIGKILL


class TrainingContainer:
    def __init__(self, client: Any, image: str, create_args: dict[str, Any], files: bytes) -> None:
        self.client = client
        self.image = image
        self.create_args = create_args
        self.files = files  # a tar archive unpacked at / before start (the harness)
        self.container: Any = None

    def __enter__(self) -> TrainingContainer:
        import docker.errors

        try:
            self.container = self.client.containers.create(self.image, **self.create_args)
        except docker.errors.APIError as exc:
            raise RunnerError(
                f"could not create the training container from {self.image}: {exc.explanation or exc}"
            ) from None
        try:
            self.container.put_archive("/", self.files)
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.remove()

    @property
    def short_id(self) -> str:
        return str(self.container.short_id)

    def start(self, gpus: str) -> None:
        """Start it; a refused GPU request says which GPU and what to do about it."""
        import docker.errors

        try:
            self.container.start()
        except docker.errors.APIError as exc:
            if self.create_args.get("device_requests") and is_gpu_error(exc):
                raise gpu_error(gpus, exc) from None
            raise RunnerError(f"the training container did not start: {exc.explanation or exc}") from None

    def stop(self) -> None:
        self.container.stop(timeout=STOP_GRACE_S)

    def remove(self) -> None:
        if self.container is None:
            return
        container, self.container = self.container, None
        try:
            container.remove(force=True)
        except Exception as exc:  # already gone is fine; anything else must not hide the result
            if getattr(getattr(exc, "response", None), "status_code", None) != 404:
                print(f"overfit-gate: warning: could not remove container {container.short_id}: {exc}", flush=True)
