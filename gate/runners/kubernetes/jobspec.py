"""The batch/v1 Job the kubernetes runner submits: one pod, at most one GPU, nothing to retry,
no credentials, least privilege. A pure function of its inputs, so tests read the manifest.

Pod Security: the pod meets the ``restricted`` standard (non-root, no privilege escalation,
every capability dropped, seccomp RuntimeDefault, only emptyDir volumes), so the namespace
can enforce it (docs/kubernetes.md).
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.github.env import SECRET_VARS

PREFIX = "overfit-gate.dev"
CONTAINER = "harness"
UID = 1000  # any non-root uid: the image's files are read-only to it, the emptyDirs are its own
STOP_GRACE_S = 5  # SIGTERM lets the harness stop cleanly before SIGKILL
_LABEL_VALUE = re.compile(r"[^A-Za-z0-9_.-]+")
_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


@dataclass(frozen=True)
class JobParams:
    name: str
    image: str
    command: Sequence[str]  # the bootstrap (transfer.bootstrap_command)
    root: str  # emptyDir mount: harness, workspace, out
    timeout: float
    namespace: str
    gpus: int = 1
    gpu_resource: str = "nvidia.com/gpu"
    node_selector: Sequence[str] = ()
    tolerations: Sequence[str] = ()
    limits: Sequence[str] = ()
    ttl: int = 600
    network: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)


def label_value(text: str) -> str:
    """A valid label value (63 chars of [A-Za-z0-9_.-], alphanumeric at both ends)."""
    return _LABEL_VALUE.sub("_", text)[:63].strip("_.-")


def run_labels(env: Mapping[str, str], gate_name: str, sha: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """Labels (and full-text annotations) naming the repository, commit (``sha``: the commit
    under test, else GITHUB_SHA) and workflow run, so leftovers are found with
    ``kubectl get jobs -l overfit-gate.dev/repo=...``."""
    repo = env.get("GITHUB_REPOSITORY", "")
    run = "-".join(filter(None, [env.get("GITHUB_RUN_ID"), env.get("GITHUB_RUN_ATTEMPT")]))
    labels = {
        "app.kubernetes.io/name": "overfit-gate",
        "app.kubernetes.io/managed-by": "overfit-gate",
        f"{PREFIX}/gate": label_value(gate_name),
        f"{PREFIX}/repo": label_value(repo.replace("/", ".")),
        f"{PREFIX}/sha": label_value(sha or env.get("GITHUB_SHA", "")),
        f"{PREFIX}/run": label_value(run),
    }
    annotations = {f"{PREFIX}/repository": repo}
    if repo and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        annotations[f"{PREFIX}/run-url"] = f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}"
    return {k: v for k, v in labels.items() if v}, {k: v for k, v in annotations.items() if v}


def job_name(env: Mapping[str, str]) -> str:
    """Chosen by us, not by generateName: a cancel that lands while the create request is in
    flight can still delete the Job by name."""
    run = label_value(env.get("GITHUB_RUN_ID", ""))[:20].lower().replace("_", "-").replace(".", "-")
    return "-".join(filter(None, ["overfit-gate", run, secrets.token_hex(3)]))


def pairs(items: Sequence[str]) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (item.partition("=") for item in items)}


def toleration(text: str) -> dict[str, str]:
    """``key=value:Effect`` (Equal), ``key:Effect`` or ``key`` (Exists), like kubectl taint."""
    spec, sep, effect = text.strip().rpartition(":")
    if not sep:
        spec, effect = text.strip(), ""
    if effect and effect not in _EFFECTS:
        raise ValueError(f"toleration {text!r}: effect must be one of {', '.join(_EFFECTS)}")
    key, eq, value = spec.partition("=")
    if not key.strip():
        raise ValueError(f"toleration {text!r} is not `key=value:Effect`, `key:Effect` or `key`")
    out = {"key": key.strip(), "operator": "Equal" if eq else "Exists"}
    if eq:
        out["value"] = value.strip()
    if effect:
        out["effect"] = effect
    return out


def resources(params: JobParams) -> dict[str, Any]:
    limits = pairs(params.limits)
    requests = dict(limits)  # requests = limits: the run gets what it may use, no overcommit
    if params.gpus:
        # Extended resources are requested through limits (requests default to them).
        limits[params.gpu_resource] = "1"
    return {k: v for k, v in (("limits", limits), ("requests", requests)) if v}


def safe_env(env: Mapping[str, str]) -> list[dict[str, str]]:
    """The container's environment, minus anything that could carry a credential."""
    return [
        {"name": k, "value": v}
        for k, v in env.items()
        if k not in SECRET_VARS and not k.startswith(("ACTIONS_", "GITHUB_", "INPUT_", "RUNNER_"))
    ]


def _container(params: JobParams) -> dict[str, Any]:
    return {
        "name": CONTAINER,
        "image": params.image,
        "imagePullPolicy": "IfNotPresent",
        "command": list(params.command),
        "workingDir": params.root,
        "env": safe_env({"OVERFIT_GATE_RUNNER": "kubernetes", "PYTHONUNBUFFERED": "1"}),
        "resources": resources(params),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,  # writes go to the emptyDirs: root, /tmp, /dev/shm
            "runAsNonRoot": True,
        },
        "volumeMounts": [
            {"name": "gate", "mountPath": params.root},
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "shm", "mountPath": "/dev/shm"},  # DataLoader workers share tensors here
        ],
    }


def _pod_spec(params: JobParams) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,  # no environment variables describing the namespace's services
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "terminationGracePeriodSeconds": STOP_GRACE_S,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(params)],
        "volumes": [
            {"name": "gate", "emptyDir": {}},
            {"name": "tmp", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory"}},
        ],
    }
    if params.node_selector:
        spec["nodeSelector"] = pairs(params.node_selector)
    if params.tolerations:
        spec["tolerations"] = [toleration(t) for t in params.tolerations]
    return spec


def build_job(params: JobParams) -> dict[str, Any]:
    pod_labels = {
        **params.labels,
        f"{PREFIX}/job": params.name,
        # A NetworkPolicy selecting this label denies egress (docs/kubernetes.md): the pod API
        # has no per-pod "no network" switch.
        f"{PREFIX}/network": "on" if params.network else "off",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": params.name,
            "namespace": params.namespace,
            "labels": dict(params.labels),
            "annotations": dict(params.annotations),
        },
        "spec": {
            "backoffLimit": 0,  # a failed overfit run is a verdict, not something to retry
            "activeDeadlineSeconds": max(1, math.ceil(params.timeout)),
            "ttlSecondsAfterFinished": params.ttl,
            "template": {"metadata": {"labels": pod_labels}, "spec": _pod_spec(params)},
        },
    }
