"""Wait for the Job's pod and say how the run ended: Pending (with its deadline and named
cause), upload once the container runs, follow the log, then map the end (exit code, OOM,
eviction, deadline) to an Outcome. The runner (runner.py) deletes the Job afterwards."""

from __future__ import annotations

import queue
import time
from typing import Any

from gate.errors import RunnerError
from gate.runners.base import Job, LogSink, Outcome
from gate.runners.kubernetes import podstate
from gate.runners.kubernetes.jobspec import CONTAINER, PREFIX
from gate.runners.kubernetes.logs import LogFollower
from gate.runners.kubernetes.podscripts import EXIT_NO_WORKSPACE
from gate.runners.kubernetes.session import POLL_S, Plan, Session
from gate.runners.kubernetes.transfer import upload


class Supervisor:
    """The wait loop: Pending (with its deadline), upload once Running, then the end."""

    def __init__(self, session: Session, plan: Plan, name: str, log: LogSink, started: float, job: Job) -> None:
        self.s, self.plan, self.name, self.log, self.job = session, plan, name, log, job
        self.started = started
        self.deadline = started + plan.timeout
        self.pending_deadline = started + min(plan.pending_timeout, plan.timeout)
        self.pod: dict[str, Any] = {}
        self.follower: LogFollower | None = None

    def _sink(self, line: str) -> None:
        if not self.plan.collector.feed(line):
            self.s.tail.add(line)
            self.log(line)

    def _outcome(self, **kw: Any) -> Outcome:
        if self.follower is not None:
            self.follower.finish(wait=0 if kw.get("cancelled") else 5)
        return Outcome(log_tail=self.s.tail.text(), **{"exit_code": None, **kw})

    def run(self) -> Outcome:
        while True:
            if self.s.stop.is_set():
                self.log("overfit-gate: cancelled, deleting the Job")
                return self._outcome(cancelled=True)
            now = time.monotonic()
            if now >= self.deadline:
                self.log(f"overfit-gate: timeout after {self.plan.timeout:g}s, deleting the Job")
                return self._outcome(timed_out=True)
            try:
                kind, obj = self.s.events.get(timeout=POLL_S)
            except queue.Empty:
                kind, obj = "", None
            if kind == "FAILED":
                raise obj
            if kind == "DELETED":
                return self._finish(deleted=True)
            if kind in ("ADDED", "MODIFIED"):
                self.pod = obj
            done = self._step(now)
            if done is not None:
                return done

    def _step(self, now: float) -> Outcome | None:
        phase = podstate.phase(self.pod) if self.pod else "Pending"
        if self.follower is None:
            if self.pod and podstate.running(self.pod):
                return self._start()
            if phase in ("Succeeded", "Failed"):
                return self._finish()
            permanent = podstate.permanent_failure(self.pod) if self.pod else None
            if permanent or now >= self.pending_deadline:
                return self._pending_error(now)
            return None
        return self._finish() if phase in ("Succeeded", "Failed") else None

    def _start(self) -> Outcome | None:
        pod = self.pod["metadata"]["name"]
        try:
            upload(self.s.core, pod, self.s.namespace, self.plan.archive, self.plan.root, self.plan.python, self.s.stop)
        except RunnerError:
            if podstate.terminated(self._reread()) is None:
                raise
            return self._finish()  # the container ended under us: say how it ended instead
        if self.s.stop.is_set():
            return None  # cancelled during the upload: the loop reports it
        self.log(f"overfit-gate: pod {pod} running, workspace uploaded; training log follows")
        self.follower = LogFollower(self.s.core, pod, self.s.namespace, self._sink).start()
        return None

    def _reread(self) -> dict[str, Any]:
        """The pod as it is now (a list, not a get: the Role grants pods list/watch only)."""
        try:
            listed = self.s.core.list_namespaced_pod(self.s.namespace, label_selector=f"{PREFIX}/job={self.name}")
            pods = self.s.api.sanitize_for_serialization(listed).get("items") or []
            self.pod = pods[0] if pods else self.pod
        except Exception:
            pass
        return self.pod

    def _pending_error(self, now: float) -> Outcome:
        subject = self.pod["metadata"]["name"] if self.pod else self.name
        events = self.s.pod_events(subject)
        if self.pod:
            cause = podstate.pending_cause(self.pod, events, self.plan.image, self.plan.gpu)
        else:
            last = [e for e in events if e.get("type") == "Warning"]
            cause = f"{last[-1].get('reason')}: {last[-1].get('message')}" if last else "the Job created no pod"
        waited = now - self.started
        self.log(f"overfit-gate: the pod did not start within {waited:.0f}s: {cause}")
        return self._outcome(
            error=f"the training pod never started (Pending for {waited:.0f}s): {cause}", error_type="PodPending"
        )

    def _finish(self, deleted: bool = False) -> Outcome:
        if self.follower is not None:
            self.follower.finish()
        if not self.plan.collector.complete and self.pod and self.follower is not None:
            self._read_whole_log()
        if self.plan.collector.complete:
            self.plan.collector.write(self.job.out_dir)
        if self.s.job_deadline_exceeded(self.name):
            return self._outcome(timed_out=True)
        # Deleted by someone else: gone from the watch, or marked for deletion while the harness
        # had not handed back its results (its container then ends with SIGTERM's exit code).
        marked = bool(self.pod and self.pod.get("metadata", {}).get("deletionTimestamp"))
        if (deleted and not podstate.terminated(self.pod)) or (marked and not self.plan.collector.complete):
            return self._outcome(
                error="the training pod was deleted before it finished (by someone or something else)",
                error_type="PodLost",
            )
        end = podstate.ending(self.pod, self.plan.memory)
        if end.timed_out:
            return self._outcome(timed_out=True)
        if end.error:
            return self._outcome(exit_code=end.exit_code, error=end.error, error_type=end.error_type)
        if self.follower is None:
            term = podstate.terminated(self.pod) or {}
            why = f"{term.get('reason', '')}: {term.get('message', '')}".strip(": ")
            return self._outcome(
                exit_code=end.exit_code,
                error=f"the training container could not start ({why or 'no reason given'})",
                error_type="ContainerStartError",
            )
        if end.exit_code == EXIT_NO_WORKSPACE and not self.plan.collector.complete:
            return self._outcome(
                exit_code=end.exit_code, error="the workspace never reached the pod", error_type="UploadError"
            )
        return self._outcome(exit_code=end.exit_code)

    def _read_whole_log(self) -> None:
        try:
            resp = self.s.core.read_namespaced_pod_log(
                self.pod["metadata"]["name"], self.s.namespace, container=CONTAINER, _preload_content=False
            )
            for line in resp.data.decode("utf-8", "replace").splitlines():
                self.plan.collector.feed(line)
        except Exception as exc:
            self.log(f"overfit-gate: warning: could not read the pod's log for its results: {exc}")
