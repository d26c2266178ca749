"""Read a pod (as the API's JSON) the way a person would: why is it still Pending, and how
did it end. Pure functions over dicts, so every path is tested without a cluster."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gate.runners.kubernetes.jobspec import CONTAINER

# Waiting reasons that will not fix themselves: fail at once instead of at the Pending deadline.
PERMANENT = {"InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"}
PULL = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"}
# Pod conditions/reasons that mean "taken away from us", not "the code failed".
DISRUPTED = {"Evicted", "Preempting", "PreemptionByScheduler", "TerminationByKubelet", "EvictionByEvictionAPI"}


@dataclass(frozen=True)
class Ending:
    """How the pod ended; ``error`` is set when the cause is the cluster's, not the code's."""

    exit_code: int | None
    error: str | None = None
    error_type: str = "RunnerError"
    timed_out: bool = False


def phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def container_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == CONTAINER:
            return dict(cs)
    return {}


def running(pod: Mapping[str, Any]) -> bool:
    return bool((container_status(pod).get("state") or {}).get("running"))


def terminated(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    state = container_status(pod).get("state") or {}
    return state.get("terminated") or None


def waiting(pod: Mapping[str, Any]) -> tuple[str, str]:
    w = (container_status(pod).get("state") or {}).get("waiting") or {}
    return str(w.get("reason") or ""), str(w.get("message") or "")


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


def permanent_failure(pod: Mapping[str, Any]) -> str | None:
    reason, message = waiting(pod)
    return f"{reason}: {message}".rstrip(": ") if reason in PERMANENT else None


def pending_cause(pod: Mapping[str, Any], events: Iterable[Mapping[str, Any]], image: str, gpu: str | None) -> str:
    """One sentence naming why the pod never ran, from its conditions, container state and events."""
    sched = _condition(pod, "PodScheduled")
    reason, message = waiting(pod)
    warnings = [e for e in events if e.get("type") == "Warning"]
    last = {str(e.get("reason")): str(e.get("message") or "") for e in warnings}
    if sched.get("status") == "False":
        why = sched.get("message") or last.get("FailedScheduling") or sched.get("reason") or "unschedulable"
        hint = ""
        if gpu and gpu in str(why):
            hint = f" (no node with a free {gpu}: is the GPU node pool scaled up, and do node-selector/tolerations match it?)"
        return f"the scheduler could not place the pod: {why}{hint}"
    if reason in PULL or ("Failed" in last and "pull" in last["Failed"].lower()):
        detail = message or last.get("Failed") or reason
        return f"the image {image} could not be pulled ({reason or 'ErrImagePull'}): {detail}"
    if reason:
        return f"the container is waiting: {reason}" + (f": {message}" if message else "")
    if warnings:
        e = warnings[-1]
        return f"{e.get('reason')}: {e.get('message')}"
    return "the pod was still Pending (no event says why)"


def ending(pod: Mapping[str, Any], limit: str | None) -> Ending:
    """The container's end as an Ending; ``limit`` is the memory limit, for the OOM wording."""
    status = pod.get("status") or {}
    term = terminated(pod) or {}
    code = term.get("exitCode")
    if term.get("reason") == "OOMKilled":
        at = f" (memory limit {limit})" if limit else ""
        return Ending(
            code,
            "the training pod was killed for running out of memory (OOMKilled)"
            f"{at}; use a smaller batch or model for the gate, or raise `kubernetes-limits` memory=...",
            "OutOfMemory",
        )
    if status.get("reason") == "DeadlineExceeded":
        return Ending(code, timed_out=True)
    target = _condition(pod, "DisruptionTarget")
    cause = status.get("reason") if status.get("reason") in DISRUPTED else target.get("reason")
    if cause in DISRUPTED or (target.get("status") == "True" and not term):
        msg = status.get("message") or target.get("message") or cause
        return Ending(
            code,
            f"the training pod was evicted by the cluster before it finished ({cause}: {msg}); "
            "this is the cluster's doing, not the pipeline's: rerun the job",
            "Evicted",
        )
    if not term:
        return Ending(
            None, f"the training pod ended ({phase(pod)}) without its container running to the end", "PodLost"
        )
    return Ending(code)
