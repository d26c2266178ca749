"""The kubernetes runner: the harness as a one-pod batch/v1 Job in the user's training image,
through the cluster's own API. The Job is always deleted (foreground propagation: its pod
first): at exit, timeout, error and cancellation; ``ttlSecondsAfterFinished`` and
``activeDeadlineSeconds`` are the cluster's own backstops if the gate itself is killed."""

from __future__ import annotations

import json
import queue
import secrets
import threading
import time
from types import FrameType
from typing import Any

from gate.errors import ConfigError, RunnerError
from gate.runners.base import SPEC_FILE, Job, LogSink, Outcome
from gate.runners.kubernetes import podstate
from gate.runners.kubernetes.cluster import connect
from gate.runners.kubernetes.jobspec import PREFIX, JobParams, build_job, job_name, pairs, run_labels
from gate.runners.kubernetes.logs import LogFollower
from gate.runners.kubernetes.session import POLL_S, Plan, Session
from gate.runners.kubernetes.transfer import (
    EXIT_NO_WORKSPACE,
    OutputCollector,
    bootstrap_command,
    upload,
    workspace_archive,
)
from gate.runners.process import install_cancel, restore_signals

ROOT = "/overfit-gate"
CLEANUP_WAIT_S = 60.0  # after a run: wait this long for the Job and its pod to be gone
CANCEL_WAIT_S = 5.0  # on cancel: Actions sends SIGKILL ~10 s after SIGINT


def _gpus(value: str) -> int:
    v = str(value).strip().lower()
    if v in ("0", "none", ""):
        return 0
    if v == "1":
        return 1
    raise ConfigError(
        f"`gpus: {value}` is not supported by the kubernetes runner",
        hint="gpus = 1 (the scheduler picks one GPU; pick the node type with kubernetes-node-selector) or 0 (CPU)",
    )


class KubernetesRunner:
    name = "kubernetes"

    def __init__(self, root: str | None = None, cleanup_wait: float = CLEANUP_WAIT_S) -> None:
        # root: where the pod's emptyDir is mounted (tests point it at a temporary folder).
        self.root, self.cleanup_wait = root or ROOT, cleanup_wait

    def run(self, job: Job, log: LogSink) -> Outcome:
        cfg = job.config
        image = getattr(cfg, "image", None)
        if getattr(cfg, "dockerfile", None):
            raise ConfigError(
                "the kubernetes runner cannot build `dockerfile`: the cluster pulls images from a registry",
                hint="build and push the image in an earlier step, then set `image`",
            )
        if not image:
            raise ConfigError("the kubernetes runner needs a training image", hint='image = "ghcr.io/you/trainer:1.0"')
        gpus = _gpus(getattr(cfg, "gpus", "1"))
        api, default_ns = connect(job.env)
        namespace = getattr(cfg, "kubernetes_namespace", None) or default_ns or "default"
        job.out_dir.mkdir(parents=True, exist_ok=True)
        spec = dict(job.spec, out=f"{self.root}/out")
        (job.out_dir / SPEC_FILE).write_text(json.dumps(spec, indent=2))
        plan = self._plan(job, image, gpus, namespace, workspace_archive(job.workdir, job.out_dir, spec))
        stop, cancelled = threading.Event(), []

        def _cancel(signum: int, frame: FrameType | None) -> None:
            cancelled.append(signum)
            stop.set()

        previous = install_cancel(_cancel)  # before the Job exists, so a cancel never leaves one behind
        session = Session(api, namespace, log, stop)
        try:
            outcome = self._run(session, plan, job, log)
            outcome.cancelled = outcome.cancelled or bool(cancelled)
            return outcome
        finally:
            session.close()
            self._cleanup(session, plan, log, CANCEL_WAIT_S if cancelled else self.cleanup_wait)
            plan.archive.close()
            api.close()
            restore_signals(previous)

    def _plan(self, job: Job, image: str, gpus: int, namespace: str, archive: Any) -> Plan:
        cfg = job.config
        nonce = secrets.token_hex(8)
        labels, annotations = run_labels(job.env, getattr(cfg, "name", "overfit-gate"))
        annotations[f"{PREFIX}/nonce"] = nonce
        python = getattr(cfg, "python", None)
        params = JobParams(
            name="",
            image=image,
            command=bootstrap_command(self.root, nonce, python),
            root=self.root,
            timeout=job.timeout,
            namespace=namespace,
            gpus=gpus,
            gpu_resource=getattr(cfg, "kubernetes_gpu_resource", "nvidia.com/gpu"),
            node_selector=getattr(cfg, "kubernetes_node_selector", []),
            tolerations=getattr(cfg, "kubernetes_tolerations", []),
            limits=getattr(cfg, "kubernetes_limits", []),
            ttl=getattr(cfg, "kubernetes_ttl", 600),
            network=bool(getattr(cfg, "network", False)),
            labels=labels,
            annotations=annotations,
        )
        import dataclasses

        return Plan(
            manifest=lambda name: build_job(dataclasses.replace(params, name=name)),
            names=lambda: job_name(job.env),
            archive=archive,
            root=self.root,
            python=python,
            image=image,
            gpu=params.gpu_resource if gpus else None,
            memory=pairs(params.limits).get("memory"),
            timeout=job.timeout,
            pending_timeout=float(getattr(cfg, "kubernetes_pending_timeout", 300.0)),
            collector=OutputCollector(nonce),
            nonce=nonce,
        )

    def _run(self, session: Session, plan: Plan, job: Job, log: LogSink) -> Outcome:
        started = time.monotonic()
        if session.stop.is_set():
            return Outcome(exit_code=None, cancelled=True)
        name = session.create(plan)
        log(
            f"overfit-gate: Job {session.namespace}/{name} created ({plan.image}, "
            f"{'1 ' + plan.gpu if plan.gpu else 'no GPU'}); waiting for its pod"
        )
        session.start_watch(name)
        return _Supervisor(session, plan, name, log, started, job).run()

    def _cleanup(self, session: Session, plan: Plan, log: LogSink, wait: float) -> None:
        if not plan.created:
            return
        try:
            left = session.delete(plan.created, wait)
        except Exception as exc:  # never hide the run's result behind a cleanup failure
            left, reason = plan.created, f": {exc}"
        else:
            reason = ""
        if left:
            log(
                f"overfit-gate: warning: Job(s) {', '.join(left)} in namespace {session.namespace} may still exist"
                f"{reason}; the cluster removes them ttlSecondsAfterFinished after they end, or: "
                f"kubectl delete job -n {session.namespace} --cascade=foreground {' '.join(left)}"
            )
        else:
            log(f"overfit-gate: deleted Job {', '.join(plan.created)} and its pod")


class _Supervisor:
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
            upload(self.s.core, pod, self.s.namespace, self.plan.archive, self.plan.root, self.plan.python)
        except RunnerError:
            if podstate.terminated(self._reread()) is None:
                raise
            return self._finish()  # the container ended under us: say how it ended instead
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
        if deleted and not podstate.terminated(self.pod):
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
                self.pod["metadata"]["name"], self.s.namespace, container="harness", _preload_content=False
            )
            for line in resp.data.decode("utf-8", "replace").splitlines():
                self.plan.collector.feed(line)
        except Exception as exc:
            self.log(f"overfit-gate: warning: could not read the pod's log for its results: {exc}")
