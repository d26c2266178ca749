"""The kubernetes runner: the harness as a one-pod batch/v1 Job in the user's training image,
through the cluster's own API. The Job is always deleted (foreground propagation: its pod
first): at exit, timeout, error and cancellation; ``ttlSecondsAfterFinished`` and
``activeDeadlineSeconds`` are the cluster's own backstops if the gate itself is killed."""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
import time
from collections.abc import Mapping
from types import FrameType
from typing import Any

from gate.errors import ConfigError
from gate.runners.base import SPEC_FILE, Job, LogSink, Outcome
from gate.runners.kubernetes.cluster import connect
from gate.runners.kubernetes.jobspec import PREFIX, JobParams, build_job, job_name, pairs, run_labels
from gate.runners.kubernetes.podscripts import bootstrap_command
from gate.runners.kubernetes.session import Plan, Session
from gate.runners.kubernetes.supervise import Supervisor
from gate.runners.kubernetes.transfer import OutputCollector, workspace_archive
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


def _target_sha(env: Mapping[str, str]) -> str | None:
    from gate.github.env import load_event, parse_event

    payload, _ = load_event(env.get("GITHUB_EVENT_PATH"))  # unreadable: GITHUB_SHA is used
    return parse_event(env.get("GITHUB_EVENT_NAME", ""), payload).head_sha


class KubernetesRunner:
    name = "kubernetes"

    def __init__(self, root: str | None = None, cleanup_wait: float = CLEANUP_WAIT_S) -> None:
        # root: where the pod's emptyDir is mounted (tests point it at a temporary folder).
        self.root, self.cleanup_wait = root or ROOT, cleanup_wait

    def run(self, job: Job, log: LogSink) -> Outcome:
        cfg = job.config
        image = cfg.image
        if cfg.dockerfile:
            raise ConfigError(
                "the kubernetes runner cannot build `dockerfile`: the cluster pulls images from a registry",
                hint="build and push the image in an earlier step, then set `image`",
            )
        if not image:
            raise ConfigError("the kubernetes runner needs a training image", hint='image = "ghcr.io/you/trainer:1.0"')
        gpus = _gpus(cfg.gpus)
        api, default_ns = connect(job.env)
        namespace = cfg.kubernetes_namespace or default_ns or "default"
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
        # On a pull request the commit under test is the PR's head, not GITHUB_SHA (a merge commit).
        labels, annotations = run_labels(job.env, cfg.name, _target_sha(job.env))
        annotations[f"{PREFIX}/nonce"] = nonce
        python = cfg.python
        params = JobParams(
            name="",
            image=image,
            command=bootstrap_command(self.root, nonce, python),
            root=self.root,
            timeout=job.timeout,
            namespace=namespace,
            gpus=gpus,
            gpu_resource=cfg.kubernetes_gpu_resource,
            node_selector=cfg.kubernetes_node_selector,
            tolerations=cfg.kubernetes_tolerations,
            limits=cfg.kubernetes_limits,
            ttl=cfg.kubernetes_ttl,
            network=cfg.network,
            labels=labels,
            annotations=annotations,
        )
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
            pending_timeout=cfg.kubernetes_pending_timeout,
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
        return Supervisor(session, plan, name, log, started, job).run()

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
