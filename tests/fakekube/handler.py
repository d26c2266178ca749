"""The HTTP side of the fake API server: routing, authentication, RBAC, faults, validation,
JSON answers, chunked watch and log streams, and the exec WebSocket."""

from __future__ import annotations

import contextlib
import copy
import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import rules, schema, websocket

if TYPE_CHECKING:
    from .server import FakeKube

ROUTES = [
    (re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs(?:/(?P<name>[^/]+))?$"), "batch", "jobs", None),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods(?:/(?P<name>[^/]+))?$"), "", "pods", None),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/(?P<sub>log|exec)$"), "", "pods", "sub"),
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/events$"), "", "events", None),
]
KINDS = {"jobs": "Job", "pods": "Pod"}


class Reply(Exception):
    def __init__(self, code: int, body: Any) -> None:
        super().__init__(code)
        self.code, self.body = code, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    @property
    def fake(self) -> FakeKube:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_GET

    # ---- plumbing -------------------------------------------------------------------
    def _send_json(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        with contextlib.suppress(OSError):
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _body(self) -> Any:
        raw = self.raw_body
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise Reply(400, self.fake.status(400, "BadRequest", "the request body is not valid JSON")) from None

    # ---- dispatch -------------------------------------------------------------------
    def _serve(self) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        verb, resource, status = "?", "?", 500
        entry = _logged(self.command, url.path, verb, resource, status)
        fake.requests.append(entry)  # now, not at the end: a watch or a log stream stays open
        # Read the body first: an answer sent over an unread body would corrupt a kept-alive connection.
        n = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(n) if n else b""
        try:
            if self.headers.get("Authorization") != f"Bearer {TOKEN()}":
                raise Reply(401, fake.status(401, "Unauthorized", "Unauthorized"))
            match, group, resource, sub = self._route(url.path)
            ns, name = match["ns"], match["name"]
            if sub:
                resource = f"pods/{match['sub']}"
            verb = self._verb(resource, name, query)
            entry.verb, entry.resource = verb, resource
            ok, rule = rules.allowed(fake.rules, group, resource, verb)
            if not ok:
                what = f"{resource.split('/')[0]}{'.' + group if group else ''}"
                raise Reply(
                    403,
                    fake.status(
                        403,
                        "Forbidden",
                        f'{what} is forbidden: User "system:serviceaccount:{ns}:overfit-gate" cannot {verb} resource '
                        f'"{resource}" in API group "{group}" in the namespace "{ns}"',
                    ),
                )
            if rule is not None:
                fake.used_rules.add((group, resource, verb))
            if ns not in fake.namespaces:
                raise Reply(
                    404,
                    fake.status(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}),
                )
            fault = self._fault(verb, resource)
            if fault is not None and not fault.after_commit:
                raise Reply(fault.status, _fault_status(fake, fault, resource, name))
            status = self._handle(verb, resource, ns, name, query)
            if fault is not None:  # after_commit: the work is done, the answer is lost
                raise Reply(fault.status, _fault_status(fake, fault, resource, name))
        except Reply as r:
            status = r.code
            fake.check_out(schema.STATUS, r.body)
            with contextlib.suppress(OSError):
                self._send_json(r.code, r.body)
        finally:
            entry.status = status

    def _route(self, path: str) -> tuple[dict[str, str], str, str, str | None]:
        for regex, group, resource, sub in ROUTES:
            m = regex.match(path)
            if m:
                return (
                    {"ns": m["ns"], "name": m.groupdict().get("name") or "", "sub": m.groupdict().get("sub") or ""},
                    group,
                    resource,
                    sub,
                )
        raise Reply(404, self.fake.status(404, "NotFound", "the server could not find the requested resource"))

    def _verb(self, resource: str, name: str, query: dict[str, str]) -> str:
        if resource == "pods/exec":
            return "create"  # WebSocket upgrades are authorized as create (Kubernetes 1.31+)
        method = self.command
        if method == "POST":
            return "create"
        if method == "DELETE":
            return "delete"
        if method in ("PUT", "PATCH"):
            return "update" if method == "PUT" else "patch"
        if name:
            return "get"
        return "watch" if query.get("watch") in ("true", "1") else "list"

    def _fault(self, verb: str, resource: str) -> Any:
        for f in self.fake.faults:
            if f.times > 0 and f.verb in (verb, "*") and f.resource in (resource, "*"):
                f.times -= 1
                return f
        return None

    def _handle(self, verb: str, resource: str, ns: str, name: str, query: dict[str, str]) -> int:
        from . import endpoints

        handler = {
            ("create", "jobs"): endpoints.create_job,
            ("get", "jobs"): endpoints.get_job,
            ("delete", "jobs"): endpoints.delete_job,
            ("list", "pods"): endpoints.list_pods,
            ("watch", "pods"): endpoints.watch_pods,
            ("get", "pods"): endpoints.get_pod,
            ("get", "pods/log"): endpoints.pod_log,
            ("create", "pods/exec"): endpoints.pod_exec,
            ("list", "events"): endpoints.list_events,
        }.get((verb, resource))
        if handler is None:
            raise Reply(405, self.fake.status(405, "MethodNotAllowed", f"{verb} is not supported on {resource}"))
        return handler(self, ns, name, query)


def TOKEN() -> str:
    from .server import TOKEN as token

    return token


def _fault_status(fake: FakeKube, fault: Any, resource: str, name: str) -> dict[str, Any]:
    reasons = {
        409: "AlreadyExists",
        410: "Expired",
        429: "TooManyRequests",
        500: "InternalError",
        503: "ServiceUnavailable",
        504: "Timeout",
    }
    reason = reasons.get(fault.status, "InternalError")
    if fault.status == 409:
        msg = f'{resource}.batch "{name or "overfit-gate"}" already exists'
    else:
        msg = f"injected fault: {reason}"
    return fake.status(fault.status, reason, msg)


def _logged(method: str, path: str, verb: str, resource: str, status: int) -> Any:
    from .server import Logged

    return Logged(method, path, verb, resource, status)


__all__ = ["Handler", "Reply", "copy", "subprocess", "threading", "time", "websocket"]
