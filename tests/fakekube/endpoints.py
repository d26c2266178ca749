"""The API operations the gate uses, as the API server answers them."""

from __future__ import annotations

import contextlib
import copy
import json
import queue
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

from . import rules, schema, websocket
from .handler import Reply

if TYPE_CHECKING:
    from .handler import Handler

WATCH_DEFAULT_S = 1800


def _not_found(h: Handler, resource: str, name: str) -> Reply:
    what = "jobs.batch" if resource == "jobs" else resource
    return Reply(404, h.fake.status(404, "NotFound", f'{what} "{name}" not found', {"name": name, "kind": resource}))


# ---- jobs ----------------------------------------------------------------------------------
def create_job(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    body = h._body()
    problems = schema.errors(schema.JOB, body)
    if problems:
        fake.rejected.extend(problems)
        raise Reply(400, fake.status(400, "BadRequest", "strict decoding error: " + "; ".join(problems[:5])))
    if body["metadata"].get("namespace") not in (None, ns):
        raise Reply(
            400,
            fake.status(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            ),
        )
    invalid = rules.job_problems(body)
    if invalid:
        fake.rejected.extend(invalid)
        name = body["metadata"].get("name", "")
        raise Reply(
            422,
            fake.status(
                422,
                "Invalid",
                f'Job.batch "{name}" is invalid: ' + "; ".join(invalid),
                {"name": name, "group": "batch", "kind": "Job"},
            ),
        )
    with fake.lock:
        key = (ns, body["metadata"]["name"])
        if key in fake.jobs:
            raise Reply(
                409,
                fake.status(
                    409,
                    "AlreadyExists",
                    f'jobs.batch "{key[1]}" already exists',
                    {"name": key[1], "group": "batch", "kind": "jobs"},
                ),
            )
        job = fake.create_job(ns, body)
        out = copy.deepcopy(job)
    fake.check_out(schema.JOB, out)
    h._send_json(201, out)
    return 201


def get_job(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    return _get(h, h.fake.jobs, schema.JOB, "jobs", ns, name)


def _get(h: Handler, store: dict[tuple[str, str], Any], kind: str, resource: str, ns: str, name: str) -> int:
    with h.fake.lock:
        obj = copy.deepcopy(store.get((ns, name)))
    if obj is None:
        raise _not_found(h, resource, name)
    h.fake.check_out(kind, obj)
    h._send_json(200, obj)
    return 200


def delete_job(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    body = h._body() or {}
    problems = schema.errors(schema.DELETE_OPTIONS, body)
    if problems:
        fake.rejected.extend(problems)
        raise Reply(400, fake.status(400, "BadRequest", "; ".join(problems)))
    policy = body.get("propagationPolicy") or query.get("propagationPolicy")
    # batch/v1 Jobs keep the API's old default: without a policy, the pods are orphaned.
    policy = policy or ("Orphan" if body.get("orphanDependents") is not False else "Background")
    with fake.lock:
        job = fake.jobs.get((ns, name))
        if job is None:
            raise _not_found(h, "jobs", name)
        pods = [k for k, p in fake.pods.items() if k[0] == ns and _owned(p, job)]
        if policy == "Foreground":
            job["metadata"]["deletionTimestamp"] = _now()
            job["metadata"]["finalizers"] = ["foregroundDeletion"]
            answer = copy.deepcopy(job)
        else:
            del fake.jobs[(ns, name)]
            answer = fake.status(200, "", "")
            answer.update(
                status="Success",
                details={"name": name, "group": "batch", "kind": "jobs", "uid": job["metadata"]["uid"]},
            )
            del answer["reason"], answer["message"]
    grace = body.get("gracePeriodSeconds")

    def _collect() -> None:  # the garbage collector
        if policy == "Orphan":
            for key in pods:
                with fake.lock:
                    if key in fake.pods:
                        fake.pods[key]["metadata"].pop("ownerReferences", None)
            return
        for key in pods:
            fake.delete_pod(key, grace=grace)
        if policy == "Foreground":
            with fake.lock:
                fake.jobs.pop((ns, name), None)

    threading.Thread(target=_collect, daemon=True).start()
    fake.check_out(schema.JOB if policy == "Foreground" else schema.STATUS, answer)
    h._send_json(200, answer)
    return 200


def _owned(pod: dict[str, Any], job: dict[str, Any]) -> bool:
    return any(r.get("uid") == job["metadata"]["uid"] for r in pod["metadata"].get("ownerReferences", []))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---- pods ---------------------------------------------------------------------------------
def _selects(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip().lstrip("="):
            return False
    return True


def list_pods(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    sel = query.get("labelSelector", "")
    with fake.lock:
        items = [
            copy.deepcopy(p)
            for (pns, _), p in fake.pods.items()
            if pns == ns and _selects(sel, p["metadata"].get("labels", {}))
        ]
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": str(fake.rv)}, "items": items}
    fake.check_out(schema.POD_LIST, body)
    h._send_json(200, body)
    return 200


def get_pod(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    return _get(h, h.fake.pods, schema.POD, "pods", ns, name)


def watch_pods(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    sel = query.get("labelSelector", "")
    since = int(query.get("resourceVersion") or 0)
    deadline = time.monotonic() + float(query.get("timeoutSeconds") or WATCH_DEFAULT_S)
    h._start_stream("application/json")
    try:
        if fake.expire_watches > 0:
            fake.expire_watches -= 1
            gone = fake.status(410, "Expired", f"too old resource version: {since} ({fake.rv})")
            _event(h, "ERROR", gone)
            return 200
        while time.monotonic() < deadline and fake._server is not None:
            with fake.lock:
                new = [
                    (rv, t, p)
                    for rv, pns, t, p in fake.history
                    if rv > since and pns == ns and _selects(sel, p["metadata"].get("labels", {}))
                ]
                if not new:
                    fake.changed.wait(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
                    continue
            for rv, kind, pod in new:
                fake.check_out(schema.POD, pod)
                _event(h, kind, pod)
                since = rv
    except OSError:
        pass
    finally:
        h._end_stream()
    return 200


def _event(h: Handler, kind: str, obj: dict[str, Any]) -> None:
    event = {"type": kind, "object": obj}
    h.fake.check_out(schema.WATCH_EVENT, event)
    h._chunk(json.dumps(event).encode() + b"\n")


def pod_log(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    key = (ns, name)
    with fake.lock:
        pod = fake.pods.get(key)
        if pod is None:
            raise _not_found(h, "pods", name)
        state = ((pod["status"].get("containerStatuses") or [{}])[0]).get("state") or {}
    if not state.get("running") and not state.get("terminated"):
        reason = (state.get("waiting") or {}).get("reason", "ContainerCreating")
        raise Reply(
            400, fake.status(400, "BadRequest", f'container "harness" in pod "{name}" is waiting to start: {reason}')
        )
    follow = query.get("follow") in ("true", "1")
    stamps = query.get("timestamps") in ("true", "1")
    since = time.time() - float(query["sinceSeconds"]) if query.get("sinceSeconds") else None
    h._start_stream("text/plain")
    sent, budget = 0, fake.drop_log_after
    fake.drop_log_after = None
    try:
        while True:
            with fake.lock:
                lines = fake.logs.get(key, [])[sent:]
                alive = key in fake.pods and "running" in (
                    (fake.pods[key]["status"].get("containerStatuses") or [{}])[0].get("state") or {}
                )
                if not lines and follow and alive and fake._server is not None:
                    fake.changed.wait(timeout=0.2)
                    continue
            for ts, line in lines:
                sent += 1
                if since is not None and _epoch(ts) < since:
                    continue
                h._chunk(((ts + " ") if stamps else "").encode() + line.encode() + b"\n")
                if budget is not None:
                    budget -= 1
                    if budget <= 0:
                        return 200  # the injected drop: the stream just ends
            if not follow or not lines:
                return 200
    except OSError:
        return 200
    finally:
        h._end_stream()


def _epoch(ts: str) -> float:
    from datetime import datetime, timezone

    whole, _, frac = ts.rstrip("Z").partition(".")
    return datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp() + float(
        "0." + (frac or "0")
    )


def list_events(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    fake = h.fake
    field = query.get("fieldSelector", "")
    want = field.split("=", 1)[1] if field.startswith("involvedObject.name=") else None
    with fake.lock:
        items = [
            copy.deepcopy(e)
            for e in fake.events
            if e["metadata"]["namespace"] == ns and want in (None, e["involvedObject"]["name"])
        ]
    body = {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": str(fake.rv)}, "items": items}
    fake.check_out(schema.EVENT_LIST, body)
    h._send_json(200, body)
    return 200


# ---- exec ---------------------------------------------------------------------------------
def pod_exec(h: Handler, ns: str, name: str, query: dict[str, str]) -> int:
    from urllib.parse import parse_qs, urlsplit

    fake = h.fake
    params = parse_qs(urlsplit(h.path).query)
    command = params.get("command", [])
    with fake.lock:
        pod = fake.pods.get((ns, name))
        if pod is None:
            raise _not_found(h, "pods", name)
        container = pod["spec"]["containers"][0]
        running = "running" in ((pod["status"].get("containerStatuses") or [{}])[0].get("state") or {})
    if h.headers.get("Upgrade", "").lower() != "websocket":
        raise Reply(400, fake.status(400, "BadRequest", "Upgrade request required"))
    if not running:
        raise Reply(
            400,
            fake.status(
                400, "BadRequest", f'unable to upgrade connection: container not found ("{container["name"]}")'
            ),
        )
    protocol = websocket.pick_protocol(h.headers.get("Sec-WebSocket-Protocol", ""))
    if protocol is None:
        raise Reply(400, fake.status(400, "BadRequest", "no supported channel subprotocol"))
    h.send_response(101)
    h.send_header("Upgrade", "websocket")
    h.send_header("Connection", "Upgrade")
    h.send_header("Sec-WebSocket-Accept", websocket.accept_key(h.headers["Sec-WebSocket-Key"]))
    h.send_header("Sec-WebSocket-Protocol", protocol)
    h.end_headers()
    h.close_connection = True
    env = {e["name"]: e.get("value", "") for e in container.get("env") or []}
    import os
    import sys

    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    fake.exec_commands.append(command)
    proc = subprocess.Popen(
        command,
        cwd=container.get("workingDir"),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _exec_session(h, proc, protocol)
    return 101


def _exec_session(h: Handler, proc: subprocess.Popen[bytes], protocol: str) -> None:
    queue.Queue()
    lock = threading.Lock()

    def send(channel: int, data: bytes) -> None:
        with lock, contextlib.suppress(OSError):
            h.wfile.write(websocket.frame(websocket.OP_BINARY, bytes([channel]) + data))
            h.wfile.flush()

    def pump(stream: Any, channel: int) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            send(channel, chunk)

    readers = [threading.Thread(target=pump, args=(s, c), daemon=True) for s, c in ((proc.stdout, 1), (proc.stderr, 2))]
    for t in readers:
        t.start()

    def stdin() -> None:
        assert proc.stdin is not None
        try:
            while proc.poll() is None:
                op, data = websocket.read_message(h.rfile)
                if op == websocket.OP_CLOSE:
                    break
                if op in (websocket.OP_BINARY, websocket.OP_TEXT) and data:
                    if data[0] == 255 and protocol.startswith("v5") and data[1:2] == b"\x00":
                        proc.stdin.close()  # v5: the client closed stdin
                    elif data[0] == 0:
                        proc.stdin.write(data[1:])
                        proc.stdin.flush()
        except (EOFError, OSError, ValueError):
            pass
        with contextlib.suppress(OSError):
            proc.stdin.close()

    threading.Thread(target=stdin, daemon=True).start()
    code = proc.wait()
    for t in readers:
        t.join(timeout=5)
    if code == 0:
        status: dict[str, Any] = {"metadata": {}, "status": "Success"}
    else:
        status = {
            "metadata": {},
            "status": "Failure",
            "message": f"command terminated with non-zero exit code: error executing command [{' '.join(proc.args)}], exit code {code}",  # type: ignore[arg-type]
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
        }
    send(3, json.dumps(status).encode())
    with lock, contextlib.suppress(OSError):
        h.wfile.write(websocket.frame(websocket.OP_CLOSE, b"\x03\xe8"))
        h.wfile.flush()
