"""The fake cluster's controllers: the Job controller (one pod per Job, the Job's conditions,
``activeDeadlineSeconds``), the scheduler (GPU capacity, nodeSelector, taints) and the kubelet
(image pull, the container as a real local process, its log, OOM/eviction faults).

The "node" is this machine: a container runs its command as a subprocess, emptyDir volumes
mounted under the node root are real folders there (created at pod start, removed with the pod);
other mounts (/tmp, /dev/shm) are the machine's own. runAsUser and readOnlyRootFilesystem are
not enforced (no root or namespaces are needed to run the tests)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeKube

CONTAINER_PULL_S = 0.05


def stamp(ns: int | None = None) -> str:
    """RFC 3339 with nanoseconds, trailing zeros trimmed, as Kubernetes writes log timestamps."""
    ns = time.time_ns() if ns is None else ns
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000))
    frac = f"{ns % 1_000_000_000:09d}".rstrip("0")
    return f"{whole}.{frac}Z" if frac else f"{whole}Z"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def tolerated(taint: dict[str, str], tolerations: list[dict[str, Any]]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value") == taint.get("value"):
            return True
    return False


class Kubelet:
    def __init__(self, fake: FakeKube) -> None:
        self.fake = fake
        self.procs: dict[tuple[str, str], subprocess.Popen[bytes]] = {}

    # ---- job controller ---------------------------------------------------------------
    def start_job(self, ns: str, job: dict[str, Any]) -> None:
        threading.Thread(target=self._job, args=(ns, job["metadata"]["name"]), daemon=True).start()

    def _job(self, ns: str, name: str) -> None:
        fake = self.fake
        time.sleep(fake.pod_create_delay)
        with fake.lock:
            job = fake.jobs.get((ns, name))
            if job is None or job["metadata"].get("deletionTimestamp"):
                return
            job["status"]["startTime"] = now()
            problem = fake.admission(job["spec"]["template"])
            if problem:
                fake.event(ns, "Job", name, "Warning", "FailedCreate", f"Error creating: pods is forbidden: {problem}")
                return
            pod = fake.new_pod(ns, job)
            job["status"]["active"] = 1
        started = time.monotonic()
        try:
            self._pod(ns, pod["metadata"]["name"], job, started)
        except KeyError:  # the pod was deleted while it was being started: nothing left to do
            return

    def _deadline(self, job: dict[str, Any], started: float) -> bool:
        limit = self.fake.deadline_override or job["spec"].get("activeDeadlineSeconds")
        return bool(limit) and time.monotonic() - started > limit

    # ---- scheduler + kubelet ------------------------------------------------------------
    def _pod(self, ns: str, pod_name: str, job: dict[str, Any], started: float) -> None:
        fake = self.fake
        key = (ns, pod_name)
        spec = fake.pods[key]["spec"]
        container = spec["containers"][0]
        unschedulable = fake.unschedulable_reason(spec)
        if unschedulable:
            fake.update_pod(key, conditions=[_cond("PodScheduled", "False", "Unschedulable", unschedulable)])
            fake.event(ns, "Pod", pod_name, "Warning", "FailedScheduling", unschedulable)
            self._wait_deleted_or_deadline(key, job, started)
            return
        fake.update_pod(key, conditions=[_cond("PodScheduled", "True")], nodeName="fake-node")
        fake.event(ns, "Pod", pod_name, "Normal", "Scheduled", f"Successfully assigned {ns}/{pod_name} to fake-node")
        time.sleep(CONTAINER_PULL_S)
        if container["image"] not in fake.images:
            msg = f'Back-off pulling image "{container["image"]}"'
            pull = f'Failed to pull image "{container["image"]}": rpc error: code = NotFound desc = failed to pull and unpack image: not found'
            fake.event(ns, "Pod", pod_name, "Warning", "Failed", pull)
            fake.update_pod(key, waiting=("ErrImagePull", pull))
            time.sleep(0.1)
            fake.event(ns, "Pod", pod_name, "Warning", "Failed", "Error: ImagePullBackOff")
            fake.update_pod(key, waiting=("ImagePullBackOff", msg))
            self._wait_deleted_or_deadline(key, job, started)
            return
        self._run_container(key, job, container, started)

    def _wait_deleted_or_deadline(self, key: tuple[str, str], job: dict[str, Any], started: float) -> None:
        while key in self.fake.pods:
            if self._deadline(job, started):
                self._job_deadline(key, job)
                return
            time.sleep(0.05)

    def _run_container(
        self, key: tuple[str, str], job: dict[str, Any], container: dict[str, Any], started: float
    ) -> None:
        fake = self.fake
        mounts = fake.prepare_volumes(key)
        fake.node_root.mkdir(parents=True, exist_ok=True)
        env = {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
            "HOME": "/nonexistent",
        }
        env.update({e["name"]: e.get("value", "") for e in container.get("env") or []})
        if fake.gpu_resource_of(container):
            env["NVIDIA_VISIBLE_DEVICES"] = "GPU-fake"
        fake.event(
            key[0],
            "Pod",
            key[1],
            "Normal",
            "Pulled",
            f'Container image "{container["image"]}" already present on machine',
        )
        try:
            proc = subprocess.Popen(
                [*container.get("command", []), *container.get("args", [])],
                cwd=container.get("workingDir") or (mounts[0] if mounts else str(fake.node_root)),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            fake.update_pod(key, phase="Failed", terminated=_term(128, "StartError", str(exc)))
            fake.finish_job(key[0], job, failed=True)
            return
        self.procs[key] = proc
        fake.event(key[0], "Pod", key[1], "Normal", "Started", "Started container harness")
        fake.update_pod(key, phase="Running", running=True)
        reader = threading.Thread(target=self._read, args=(key, proc), daemon=True)
        reader.start()
        fault = self._supervise(key, job, proc, started)
        reader.join(timeout=5)
        code = proc.returncode
        if fault == "deadline":
            self._job_deadline(key, job)
            return
        if key not in fake.pods:
            return  # deleted from outside: the deleter reports
        if fault == "oom":
            fake.update_pod(key, phase="Failed", terminated=_term(137, "OOMKilled"))
        elif fault == "evict":
            fake.update_pod(
                key,
                phase="Failed",
                reason="Evicted",
                message="The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi.",
                terminated=_term(137, "Error"),
                conditions=[
                    _cond(
                        "DisruptionTarget", "True", "TerminationByKubelet", "The node had condition: [MemoryPressure]."
                    )
                ],
            )
        else:
            fake.update_pod(
                key,
                phase="Succeeded" if code == 0 else "Failed",
                terminated=_term(code, "Completed" if code == 0 else "Error"),
            )
        fake.finish_job(key[0], job, failed=fault is not None or code != 0)

    def _supervise(
        self, key: tuple[str, str], job: dict[str, Any], proc: subprocess.Popen[bytes], started: float
    ) -> str | None:
        fake = self.fake
        t0 = time.monotonic()
        while proc.poll() is None:
            if key not in fake.pods:
                kill(proc, grace=0.5)  # deleted before the kubelet knew the process: stop it here
                return "deleted"
            if self._deadline(job, started):
                kill(proc)
                return "deadline"
            for fault, after in (("oom", fake.oom_after), ("evict", fake.evict_after)):
                if after is not None and time.monotonic() - t0 >= after:
                    kill(proc, sig=signal.SIGKILL)
                    return fault
            time.sleep(0.02)
        return None

    def _read(self, key: tuple[str, str], proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            self.fake.append_log(key, raw.decode("utf-8", "replace").rstrip("\n"))

    def _job_deadline(self, key: tuple[str, str], job: dict[str, Any]) -> None:
        fake = self.fake
        fake.event(
            key[0],
            "Job",
            job["metadata"]["name"],
            "Warning",
            "DeadlineExceeded",
            "Job was active longer than specified deadline",
        )
        fake.finish_job(key[0], job, failed=True, reason="DeadlineExceeded")
        fake.delete_pod(key)

    def stop(self, key: tuple[str, str], grace: float) -> None:
        proc = self.procs.pop(key, None)
        if proc is not None:
            kill(proc, grace=grace)


def kill(proc: subprocess.Popen[bytes], grace: float = 1.0, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _cond(kind: str, status: str, reason: str | None = None, message: str | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": now()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def _term(code: int | None, reason: str, message: str | None = None) -> dict[str, Any]:
    t: dict[str, Any] = {
        "exitCode": 137 if code is None or code < 0 else code,
        "reason": reason,
        "startedAt": now(),
        "finishedAt": now(),
    }
    if message:
        t["message"] = message
    return t


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def new_uid() -> str:
    return str(uuid.uuid4())
