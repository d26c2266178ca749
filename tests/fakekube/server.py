"""A local HTTP server that plays the Kubernetes API server for what the kubernetes runner
uses: Jobs (create, get, delete with propagation), pods (list, watch, get, log, exec over
WebSocket) and events, with the Job controller, scheduler and kubelet of kubelet.py behind it.

Like the real one it authenticates (bearer token), authorizes (an RBAC Role's rules, when
given), validates every body against Kubernetes' own definitions (tests/data/kubernetes) and
its own semantic rules (422 Invalid), and answers with Status objects. Every object it sends
is validated too. Faults: Unschedulable (no node fits), ImagePullBackOff (unknown image),
OOMKilled and eviction after N seconds, 409 / 5xx on any call (also "after commit"), 410 on
watches, dropped log streams.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import schema
from .handler import Handler
from .kubelet import Kubelet, new_uid, now, remove_tree, stamp, tolerated

TOKEN = "fake-kube-token-0123456789"
NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
RESTRICTED_VOLUMES = {
    "emptyDir",
    "configMap",
    "secret",
    "projected",
    "downwardAPI",
    "persistentVolumeClaim",
    "ephemeral",
    "csi",
}


@dataclass
class Fault:
    verb: str  # create, get, list, watch, delete, or "*"
    resource: str  # jobs, pods, pods/log, pods/exec, events, or "*"
    status: int
    times: int = 1
    after_commit: bool = False  # do the work, then fail (a lost answer)


@dataclass
class Logged:
    method: str
    path: str
    verb: str
    resource: str
    status: int
    body: Any = None


class FakeKube:
    def __init__(self, node_root: Path, namespace: str = "gate") -> None:
        self.node_root = node_root  # emptyDir mounts under it are real folders
        self.namespaces = {"default", namespace}
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.logs: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.history: list[tuple[int, str, str, dict[str, Any]]] = []  # (rv, namespace, type, pod)
        self.rv = 100
        # The node and what it can pull.
        self.images = {"overfit-gate-train:cpu"}
        self.node_labels = {"kubernetes.io/hostname": "fake-node", "kubernetes.io/os": "linux"}
        self.node_gpus: dict[str, int] = {}  # extended resource -> count
        self.node_taints: list[dict[str, str]] = []
        # Faults and knobs.
        self.faults: list[Fault] = []
        self.oom_after: float | None = None
        self.evict_after: float | None = None
        self.expire_watches = 0  # the next N watches answer 410 Expired
        self.drop_log_after: int | None = None  # close the next follow stream after N lines
        self.pod_create_delay = 0.05
        self.deadline_override: float | None = None  # the Job controller's deadline, sooner than the Job says
        self.rules: list[dict[str, Any]] | None = None  # RBAC: None allows everything
        self.pod_security: str | None = None  # "restricted" enforces that Pod Security level
        # What happened.
        self.requests: list[Logged] = []
        self.exec_commands: list[list[str]] = []
        self.created_jobs: list[dict[str, Any]] = []  # as received
        self.finished_logs: dict[tuple[str, str], list[tuple[str, str]]] = {}  # logs of deleted pods
        self.rejected: list[str] = []
        self.response_errors: list[str] = []
        self.used_rules: set[tuple[str, str, str]] = set()
        self.kubelet = Kubelet(self)
        self._server: ThreadingHTTPServer | None = None

    # ---- test-facing ------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, path: Path, namespace: str = "gate") -> Path:
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                    "users": [{"name": "gate", "user": {"token": TOKEN}}],
                    "contexts": [
                        {"name": "fake", "context": {"cluster": "fake", "user": "gate", "namespace": namespace}}
                    ],
                    "current-context": "fake",
                }
            )
        )
        return path

    def fail(self, verb: str, resource: str, status: int, times: int = 1, after_commit: bool = False) -> None:
        self.faults.append(Fault(verb, resource, status, times, after_commit))

    def leftovers(self) -> list[str]:
        with self.lock:
            return [f"job/{n}" for _, n in self.jobs] + [f"pod/{n}" for _, n in self.pods]

    def start(self) -> FakeKube:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for key in list(self.pods):
            self.delete_pod(key, grace=0.5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self.changed:
            self.changed.notify_all()

    # ---- objects ------------------------------------------------------------------------
    def next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def status(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
        if details:
            body["details"] = details
        return body

    def check_out(self, kind: str, body: Any) -> None:
        for problem in schema.errors(kind, body):
            self.response_errors.append(f"{kind}: {problem}")

    def create_job(self, ns: str, job: dict[str, Any]) -> dict[str, Any]:
        self.created_jobs.append(copy.deepcopy(job))
        name = job["metadata"]["name"]
        uid = new_uid()
        meta = job["metadata"]
        meta.update(namespace=ns, uid=uid, resourceVersion=self.next_rv(), creationTimestamp=now(), generation=1)
        spec = job["spec"]
        ids = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        spec["template"].setdefault("metadata", {}).setdefault("labels", {}).update(ids)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        job["status"] = {}
        self.jobs[(ns, name)] = job
        self.kubelet.start_job(ns, job)
        return job

    def new_pod(self, ns: str, job: dict[str, Any]) -> dict[str, Any]:
        template = job["spec"]["template"]
        name = f"{job['metadata']['name']}-{secrets.token_hex(3)[:5]}"
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "uid": new_uid(),
                "creationTimestamp": now(),
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": job["metadata"]["name"],
                        "uid": job["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": copy.deepcopy(template["spec"]),
            "status": {"phase": "Pending", "qosClass": "BestEffort"},
        }
        with self.lock:
            self.pods[(ns, name)] = pod
            self.logs[(ns, name)] = []
            self._changed(ns, "ADDED", pod)
        return pod

    def update_pod(self, key: tuple[str, str], **kw: Any) -> None:
        with self.lock:
            pod = self.pods.get(key)
            if pod is None:
                return
            st = pod["status"]
            if "phase" in kw:
                st["phase"] = kw["phase"]
            for field in ("reason", "message"):
                if field in kw:
                    st[field] = kw[field]
            if "nodeName" in kw:
                pod["spec"]["nodeName"] = kw["nodeName"]
            if "conditions" in kw:
                kinds = {c["type"] for c in kw["conditions"]}
                st["conditions"] = [c for c in st.get("conditions", []) if c["type"] not in kinds] + kw["conditions"]
            state: dict[str, Any] | None = None
            if "waiting" in kw:
                state = {"waiting": {"reason": kw["waiting"][0], "message": kw["waiting"][1]}}
            if kw.get("running"):
                state = {"running": {"startedAt": now()}}
                st["startTime"] = now()
            if "terminated" in kw:
                state = {"terminated": kw["terminated"]}
            if state is not None:
                c = pod["spec"]["containers"][0]
                st["containerStatuses"] = [
                    {
                        "name": c["name"],
                        "image": c["image"],
                        "imageID": "",
                        "ready": "running" in state,
                        "restartCount": 0,
                        "started": "running" in state,
                        "state": state,
                    }
                ]
            self._changed(key[0], "MODIFIED", pod)

    def _changed(self, ns: str, kind: str, pod: dict[str, Any]) -> None:
        pod["metadata"]["resourceVersion"] = self.next_rv()
        snapshot = copy.deepcopy(pod)
        self.history.append((self.rv, ns, kind, snapshot))
        self.changed.notify_all()

    def delete_pod(self, key: tuple[str, str], grace: float | None = None) -> None:
        with self.lock:
            pod = self.pods.get(key)
            if pod is None:
                return
            wait = grace if grace is not None else float(pod["spec"].get("terminationGracePeriodSeconds", 30))
            # As the API server does: a graceful delete first marks the pod (watchers see MODIFIED
            # with deletionTimestamp), then the kubelet stops its containers.
            pod["metadata"]["deletionTimestamp"] = now()
            pod["metadata"]["deletionGracePeriodSeconds"] = int(wait)
            self._changed(key[0], "MODIFIED", pod)
        self.kubelet.stop(key, wait)
        with self.lock:
            pod = self.pods.pop(key, None)
            if pod is not None:
                self._changed(key[0], "DELETED", pod)
                self.finished_logs[key] = self.logs.pop(key, [])
        for v in (pod or {}).get("spec", {}).get("volumes", []):
            path = self._mount_path(pod or {}, v["name"])
            if path is not None and "emptyDir" in v:
                remove_tree(path)

    def finish_job(self, ns: str, job: dict[str, Any], failed: bool, reason: str = "BackoffLimitExceeded") -> None:
        with self.lock:
            st = job["status"]
            st.pop("active", None)
            kind = "Failed" if failed else "Complete"
            st["failed" if failed else "succeeded"] = 1
            st["conditions"] = [
                {
                    "type": kind,
                    "status": "True",
                    "reason": reason if failed else "Completed",
                    "lastTransitionTime": now(),
                }
            ]
            if not failed:
                st["completionTime"] = now()
            job["metadata"]["resourceVersion"] = self.next_rv()

    def event(self, ns: str, kind: str, name: str, type_: str, reason: str, message: str) -> None:
        with self.lock:
            self.events.append(
                {
                    "metadata": {
                        "name": f"{name}.{secrets.token_hex(8)}",
                        "namespace": ns,
                        "resourceVersion": self.next_rv(),
                    },
                    "involvedObject": {"kind": kind, "name": name, "namespace": ns},
                    "type": type_,
                    "reason": reason,
                    "message": message,
                    "firstTimestamp": now(),
                    "lastTimestamp": now(),
                    "count": 1,
                    "source": {"component": "fake-kube"},
                }
            )

    def append_log(self, key: tuple[str, str], line: str) -> None:
        with self.lock:
            self.logs.setdefault(key, []).append((stamp(), line))
            self.changed.notify_all()

    # ---- node -----------------------------------------------------------------------
    def gpu_resource_of(self, container: dict[str, Any]) -> str | None:
        limits = (container.get("resources") or {}).get("limits") or {}
        return next((k for k in limits if "/" in k and k.endswith("gpu")), None)

    def unschedulable_reason(self, spec: dict[str, Any]) -> str | None:
        """The scheduler's message when the one fake node does not fit the pod."""
        problems = []
        for key, value in (spec.get("nodeSelector") or {}).items():
            if self.node_labels.get(key) != value:
                problems.append("1 node(s) didn't match Pod's node affinity/selector")
                break
        for taint in self.node_taints:
            if taint["effect"] in ("NoSchedule", "NoExecute") and not tolerated(taint, spec.get("tolerations") or []):
                problems.append(f"1 node(s) had untolerated taint {{{taint['key']}: {taint.get('value', '')}}}")
        for c in spec["containers"]:
            for res, qty in ((c.get("resources") or {}).get("limits") or {}).items():
                if "/" in res and self.node_gpus.get(res, 0) < int(qty):
                    problems.append(f"1 Insufficient {res}")
        if not problems:
            return None
        return f"0/1 nodes are available: {'. '.join(problems)}. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."

    def prepare_volumes(self, key: tuple[str, str]) -> list[str]:
        pod = self.pods[key]
        made = []
        for v in pod["spec"].get("volumes", []):
            path = self._mount_path(pod, v["name"])
            if path is not None and "emptyDir" in v:
                path.mkdir(parents=True, exist_ok=True)
                made.append(str(path))
        return made

    def _mount_path(self, pod: dict[str, Any], volume: str) -> Path | None:
        for m in pod["spec"]["containers"][0].get("volumeMounts", []):
            if m["name"] == volume:
                p = Path(m["mountPath"])
                return p if self.node_root in p.parents else None
        return None

    def admission(self, template: dict[str, Any]) -> str | None:
        """Pod Security admission at the `restricted` level (only when enabled)."""
        if self.pod_security != "restricted":
            return None
        spec = template["spec"]
        psc = spec.get("securityContext") or {}
        bad = []
        for c in spec["containers"]:
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                bad.append(f'allowPrivilegeEscalation != false (container "{c["name"]}")')
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                bad.append(f'unrestricted capabilities (container "{c["name"]}" must drop ALL)')
            if not (sc.get("runAsNonRoot") or psc.get("runAsNonRoot")):
                bad.append("runAsNonRoot != true")
            if ((sc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")) not in (
                "RuntimeDefault",
                "Localhost",
            ):
                bad.append("seccompProfile (pod or container must set type RuntimeDefault or Localhost)")
        for v in spec.get("volumes", []):
            if not set(v) - {"name"} <= RESTRICTED_VOLUMES:
                bad.append(f'restricted volume types (volume "{v["name"]}")')
        if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
            bad.append("host namespaces")
        return f'violates PodSecurity "restricted:latest": {", ".join(bad)}' if bad else None
