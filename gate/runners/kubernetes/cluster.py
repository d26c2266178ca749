"""The few API calls the runner makes, through the official client, with the cluster's
answers turned into RunnerErrors that say what to do. Transient failures (5xx, 429, a dropped
connection) are retried; everything else is reported at once."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from gate.errors import RunnerError

SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
RETRIES = 4
T = TypeVar("T")
RBAC_HINT = "grant the gate's service account the Role in docs/kubernetes.md (least privilege, one namespace)"


def load_client() -> Any:
    try:
        import kubernetes
    except ImportError:
        raise RunnerError(
            "the kubernetes runner needs the `kubernetes` Python package",
            hint="pip install 'overfit-gate[kubernetes]'",
        ) from None
    import kubernetes

    return kubernetes


def connect(env: Mapping[str, str]) -> tuple[Any, str | None]:
    """An ApiClient configured the way the client's own ``config.load_config()`` decides: a
    kubeconfig when one exists ($KUBECONFIG, else ~/.kube/config), else the pod's service
    account. Also the namespace that configuration names, if any."""
    k8s = load_client()
    path = env.get("KUBECONFIG") or str(Path(env.get("HOME") or "~").expanduser() / ".kube" / "config")
    if any(Path(p).is_file() for p in path.split(":") if p):
        try:
            api = k8s.config.new_client_from_config(config_file=path)
            _, active = k8s.config.list_kube_config_contexts(config_file=path)
        except (k8s.config.ConfigException, OSError, ValueError) as exc:
            raise RunnerError(f"the kubeconfig {path} is unusable: {exc}") from None
        return api, ((active or {}).get("context") or {}).get("namespace")
    conf = k8s.client.Configuration()
    try:
        k8s.config.load_incluster_config(client_configuration=conf)
    except k8s.config.ConfigException as exc:
        raise RunnerError(
            f"no Kubernetes credentials: no kubeconfig at {path}, and not in a pod with a service account ({exc})",
            hint="run the gate in the cluster with a service account bound to the Role in docs/kubernetes.md, "
            "or set KUBECONFIG",
        ) from None
    ns = SA_NAMESPACE.read_text().strip() if SA_NAMESPACE.is_file() else None
    return k8s.client.ApiClient(conf), ns


def status_of(exc: BaseException) -> int:
    return int(getattr(exc, "status", 0) or 0)


def message_of(exc: BaseException) -> str:
    """The Status object's message when the server sent one."""
    import json

    body = getattr(exc, "body", None)
    try:
        data = json.loads(body) if body else {}
    except (TypeError, ValueError):
        data = {}
    text = data.get("message") if isinstance(data, dict) else None
    return str(text or getattr(exc, "reason", None) or exc).strip()


def transient(exc: BaseException) -> bool:
    status = status_of(exc)
    return status == 0 or status == 429 or status >= 500


def api_error(exc: BaseException, doing: str, namespace: str) -> RunnerError:
    err = _api_error(exc, doing, namespace)
    err.status = status_of(exc)  # type: ignore[attr-defined]  # callers branch on 404/409
    return err


def _api_error(exc: BaseException, doing: str, namespace: str) -> RunnerError:
    status, msg = status_of(exc), message_of(exc)
    if status == 401:
        return RunnerError(f"the cluster refused the gate's credentials while trying to {doing}: {msg}")
    if status == 403:
        return RunnerError(f"the gate may not {doing} in namespace {namespace}: {msg}", hint=RBAC_HINT)
    if status == 404 and "namespace" in msg.lower():
        return RunnerError(f"namespace {namespace} does not exist: {msg}", hint="set `kubernetes-namespace`")
    if status == 422 or status == 400:
        return RunnerError(f"the cluster rejected the request to {doing}: {msg}")
    return RunnerError(f"the Kubernetes API failed to {doing} (HTTP {status or 'connection'}): {msg}")


def call(fn: Callable[[], T], doing: str, namespace: str, retries: int = RETRIES) -> T:
    """``fn()`` with retries on transient failures; a RunnerError when it cannot succeed."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    for attempt in range(retries):
        try:
            return fn()
        except (ApiException, HTTPError, OSError) as exc:
            if not transient(exc) or attempt == retries - 1:
                raise api_error(exc, doing, namespace) from None
            time.sleep(min(0.25 * 2**attempt, 2.0))
    raise AssertionError("unreachable")
