"""One Job from creation to deletion: create it (a 409 gets a fresh name), watch its pod
(a 410 relists), upload the workspace once the container runs, follow the log, map how it
ended, and delete every Job it created with foreground propagation."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

from gate.errors import RunnerError
from gate.runners.base import LogSink
from gate.runners.kubernetes.cluster import api_error, call, status_of, transient
from gate.runners.kubernetes.jobspec import PREFIX
from gate.runners.kubernetes.transfer import OutputCollector
from gate.runners.process import Tail

POLL_S = 0.25
WATCH_S = 30  # a watch is reopened this often; the API server may end it sooner
NAME_TRIES = 3


@dataclass
class Plan:
    """What the session needs to know about the run (built by the runner)."""

    manifest: Callable[[str], dict[str, Any]]  # name -> Job
    names: Callable[[], str]
    archive: IO[bytes]
    root: str
    python: str | None
    image: str
    gpu: str | None
    memory: str | None
    timeout: float
    pending_timeout: float
    collector: OutputCollector
    nonce: str
    created: list[str] = field(default_factory=list)


class Session:
    def __init__(self, api: Any, namespace: str, log: LogSink, stop: threading.Event) -> None:
        import kubernetes

        self.api, self.namespace, self.log, self.stop = api, namespace, log, stop
        # Any: the client's stubs type answers as models, but _preload_content=False gives streams.
        self.batch: Any = kubernetes.client.BatchV1Api(api)
        self.core: Any = kubernetes.client.CoreV1Api(api)
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.tail = Tail()
        self._closed = threading.Event()

    # ---- create ----------------------------------------------------------------------
    def create(self, plan: Plan) -> str:
        for _ in range(NAME_TRIES):
            name = plan.names()
            plan.created.append(name)  # before the request: a lost answer is still cleaned up
            body = plan.manifest(name)
            try:
                call(partial(self.batch.create_namespaced_job, self.namespace, body), "create Jobs", self.namespace)
                return name
            except RunnerError as exc:
                if getattr(exc, "status", None) != 409:
                    raise
            # 409 AlreadyExists: ours when a retried create had gone through (its answer was lost).
            if self._ours(name, plan.nonce):
                return name
            plan.created.remove(name)  # someone else's Job: never delete it
            self.log(f"overfit-gate: Job {name} already exists (not ours), trying another name")
        raise RunnerError(f"could not create a Job under a free name after {NAME_TRIES} tries (409 AlreadyExists)")

    def _ours(self, name: str, nonce: str) -> bool:
        try:
            job = call(partial(self.batch.read_namespaced_job, name, self.namespace), "get Jobs", self.namespace)
        except RunnerError as exc:
            if getattr(exc, "status", None) == 404:  # gone again: not ours either way
                return False
            raise
        return bool((job.metadata.annotations or {}).get(f"{PREFIX}/nonce") == nonce)

    # ---- watch -----------------------------------------------------------------------
    def _watch(self, selector: str) -> None:
        import kubernetes

        to_dict = self.api.sanitize_for_serialization
        while not self._closed.is_set():
            try:
                listed = self.core.list_namespaced_pod(self.namespace, label_selector=selector)
                for pod in listed.items:
                    self.events.put(("MODIFIED", to_dict(pod)))
                w = kubernetes.watch.Watch()
                for ev in w.stream(
                    self.core.list_namespaced_pod,
                    self.namespace,
                    label_selector=selector,
                    resource_version=listed.metadata.resource_version,
                    timeout_seconds=WATCH_S,
                ):
                    self.events.put((ev["type"], ev["raw_object"]))
                    if self._closed.is_set():
                        w.stop()
            except Exception as exc:
                if status_of(exc) == 410 or transient(exc):  # expired resourceVersion or a blip: relist
                    self._closed.wait(0.5)
                    continue
                self.events.put(("FAILED", api_error(exc, "watch pods", self.namespace)))
                return

    def start_watch(self, job: str) -> None:
        selector = f"{PREFIX}/job={job}"
        threading.Thread(target=self._watch, args=(selector,), name="overfit-gate-k8s-watch", daemon=True).start()

    def close(self) -> None:
        self._closed.set()

    # ---- events of a pending pod ---------------------------------------------------------
    def pod_events(self, pod: str) -> list[Mapping[str, Any]]:
        try:
            listed = self.core.list_namespaced_event(self.namespace, field_selector=f"involvedObject.name={pod}")
        except Exception:  # events are a nicety for the message; RBAC may not grant them
            return []
        items = self.api.sanitize_for_serialization(listed).get("items") or []
        return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))

    def job_deadline_exceeded(self, name: str) -> bool:
        """The Job's own activeDeadlineSeconds fired (the cluster stopped the pod at the timeout)."""
        try:
            return _deadline_exceeded(self.batch.read_namespaced_job(name, self.namespace))
        except Exception:
            return False

    # ---- delete ----------------------------------------------------------------------
    def delete(self, names: list[str], wait: float) -> list[str]:
        """Foreground deletion of every Job tried; returns the names still present after ``wait``."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"}
        for name in names:
            try:
                call(
                    partial(self.batch.delete_namespaced_job, name, self.namespace, body=body),
                    "delete Jobs",
                    self.namespace,
                )
            except RunnerError as exc:
                if getattr(exc, "status", None) != 404:
                    self.log(f"overfit-gate: warning: {exc}")
        deadline = time.monotonic() + wait
        left = list(names)
        while left and time.monotonic() < deadline:
            left = [n for n in left if self._still_there(n)]
            if left:
                time.sleep(POLL_S)
        return left

    def _still_there(self, name: str) -> bool:
        try:
            self.batch.read_namespaced_job(name, self.namespace)
        except Exception as exc:
            if status_of(exc) == 404:
                pods = self.core.list_namespaced_pod(self.namespace, label_selector=f"{PREFIX}/job={name}")
                return bool(pods.items)
            return True
        return True


def _deadline_exceeded(job: Any) -> bool:
    conditions = (getattr(job, "status", None) and job.status.conditions) or []
    return any(c.type == "Failed" and c.status == "True" and c.reason == "DeadlineExceeded" for c in conditions)
