"""The docker runner: the harness in the user's training image, as a sibling container
started through the Docker socket, with at most one GPU, no network by default and none of
our credentials. The container is always removed: at exit, timeout, error or cancellation.

Inside the container:
  /overfit-gate/gate/   the harness (copied in before start; torch + stdlib only)
  /overfit-gate/out/    the out folder (bind mount): spec.json in, result.json + loss.csv out
  <workdir>             the project, mounted at the same path the gate sees it at
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from gate.harness.contract import ErrorKind
from gate.runners.base import SPEC_FILE, Job, LogSink, Outcome
from gate.runners.docker_container import TrainingContainer
from gate.runners.docker_paths import PathMap
from gate.runners.docker_setup import connect, device_requests, ensure_image, harness_archive
from gate.runners.process import Tail, install_cancel, pump, restore_signals

ROOT = "/overfit-gate"
OUT = f"{ROOT}/out"
LABEL = "dev.overfit-gate.run"
POLL_S = 0.25


class DockerRunner:
    name = "docker"

    def __init__(self, **host_config: Any) -> None:
        # Extra create() arguments (e.g. mem_limit) for tests and embedders; not a config key.
        self.host_config = host_config

    def run(self, job: Job, log: LogSink) -> Outcome:
        gpus = job.config.gpus
        devices = device_requests(gpus)
        client = connect(job.env)
        try:
            image = ensure_image(client, job.config, job.workdir, log)
            return self._run(client, image, devices, gpus, job, log)
        finally:
            client.close()

    def _run(self, client: Any, image: str, devices: list[Any], gpus: str, job: Job, log: LogSink) -> Outcome:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        (job.out_dir / SPEC_FILE).write_text(json.dumps(dict(job.spec, out=OUT), indent=2))
        create_args = self._create_args(client, image, devices, job)
        stop = threading.Event()
        cancelled: list[int] = []

        def _cancel(signum: int, frame: FrameType | None) -> None:
            cancelled.append(signum)
            stop.set()

        # Installed before the container exists, so a cancel can never leave one behind.
        previous = install_cancel(_cancel)
        try:
            with TrainingContainer(client, image, create_args, harness_archive(ROOT.lstrip("/"))) as box:
                if stop.is_set():
                    return Outcome(exit_code=None, cancelled=True)
                box.start(gpus)
                network = "on" if job.config.network else "off"
                log(f"overfit-gate: running in {image} (container {box.short_id}, gpus={gpus}, network={network})")
                outcome = self._supervise(box, job, log, stop)
                outcome.cancelled = bool(cancelled)
                return outcome
        finally:
            restore_signals(previous)

    def _create_args(self, client: Any, image: str, devices: list[Any], job: Job) -> dict[str, Any]:
        """Everything ``containers.create`` is given besides the image: what runs, what is
        mounted, as whom, and what the container may reach."""
        from docker.types import Mount

        paths = PathMap.detect(client)
        user = _user(job.workdir, job.out_dir)
        spec = f"{OUT}/{SPEC_FILE}"
        # Images ship `python`, `python3` or both; a shell picks one unless `python` names it.
        command = (
            [job.config.python, "-m", "gate.harness", "--spec", spec]
            if job.config.python
            else [
                "/bin/sh",
                "-c",
                'exec "$(command -v python || command -v python3)" -m gate.harness --spec "$0"',
                spec,
            ]
        )
        return dict(
            entrypoint=command,
            command=[],
            working_dir=str(job.workdir),
            mounts=[
                Mount(target=str(job.workdir), source=paths.host(job.workdir), type="bind"),
                Mount(target=OUT, source=paths.host(job.out_dir), type="bind"),
            ],
            environment=_environment(client, image, user),
            network_mode=None if job.config.network else "none",
            device_requests=devices or None,
            user=user,
            init=True,  # forwards SIGTERM to the harness and reaps what the training code forks
            labels={LABEL: job.config.name},
            **self.host_config,
        )

    def _supervise(self, box: TrainingContainer, job: Job, log: LogSink, stop: threading.Event) -> Outcome:
        container = box.container
        tail = Tail()
        reader = pump(_lines(container.logs(stream=True, follow=True)), log, tail)
        deadline = time.monotonic() + job.timeout
        timed_out = False
        # Poll rather than block in wait(): a signal handler can then end the loop at once.
        while True:
            container.reload()
            if container.status in ("exited", "dead"):
                break
            if stop.is_set():
                log("overfit-gate: cancelled, stopping the training container")
                box.stop()
                break
            if time.monotonic() >= deadline:
                timed_out = True
                log(f"overfit-gate: timeout after {job.timeout:g}s, stopping the run")
                box.stop()
                break
            stop.wait(POLL_S)
        container.reload()
        reader.join(timeout=5)
        state = container.attrs.get("State", {})
        code = state.get("ExitCode")
        if state.get("OOMKilled") and not timed_out and not stop.is_set():
            return Outcome(
                exit_code=code,
                log_tail=tail.text(),
                error="the training container was killed for running out of memory (OOMKilled); "
                "use a smaller batch or model for the gate, or give the container more memory",
                error_type=ErrorKind.OUT_OF_MEMORY,
            )
        return Outcome(exit_code=code, timed_out=timed_out, log_tail=tail.text())


def _user(workdir: Path, out_dir: Path) -> str:
    """Run as whoever owns the files: output must not end up root-owned in the workspace.
    As root (a container action), that is the workspace's owner (the runner's user)."""
    if os.geteuid() != 0:
        return f"{os.getuid()}:{os.getgid()}"
    st = workdir.stat()
    if st.st_uid != 0:
        # The out folder was created by us (root); hand it to the user the container runs as.
        for p in (out_dir, *out_dir.iterdir()):
            os.chown(p, st.st_uid, st.st_gid)
    return f"{st.st_uid}:{st.st_gid}"


def _environment(client: Any, image: str, user: str) -> dict[str, str]:
    """Only what the harness needs: never the controller's environment (tokens, GITHUB_*)."""
    image_env = dict(
        e.split("=", 1) for e in (client.images.get(image).attrs.get("Config", {}).get("Env") or []) if "=" in e
    )
    env = {
        "PYTHONPATH": ":".join(filter(None, [ROOT, image_env.get("PYTHONPATH", "")])),
        "PYTHONUNBUFFERED": "1",
        "OVERFIT_GATE_RUNNER": "docker",
    }
    if not user.startswith("0:"):
        # An arbitrary uid has no home in the image; caches (torch, matplotlib) need one.
        env["HOME"] = "/tmp"
    return env


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The log stream yields arbitrary chunks; the log sink wants lines."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *done, pending = pending.split(b"\n")
        yield from done
    if pending:
        yield pending
