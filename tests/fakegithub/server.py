"""A local HTTP server that plays GitHub's REST API for the operations the gate uses.

Every request is routed and validated against GitHub's own OpenAPI description (path params,
query params, JSON body); invalid ones get GitHub's 4xx answers. State (check runs with their
annotations, comments, statuses) is kept per repository so tests assert the end state; lists
paginate with Link headers; responses start from the description's examples and are checked
against its response schemas. Faults (403/404/429/500, rate-limit headers) can be injected.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .spec import Operation, body_errors, check_param, load

PREFIX = "/api/v3"  # served like GitHub Enterprise Server, so base-URL handling is exercised
DOCS = "https://docs.github.com/rest"
READ_ONLY = "Resource not accessible by integration"
PAT_ON_CHECKS = "You must authenticate via a GitHub App."
TOKEN = "ghs_fAkEiNsTaLlAtIoNtOkEn0123456789abcdef"  # tests assert it never appears in output
PAT = "ghp_fAkEpErSoNaLaCcEsStOkEn0123456789abcd"
OTHER_APP = "ghs_fAkEoThErApPiNsTaLlAtIoN0123456789ab"  # another GitHub App installed on the repo


@dataclass
class Fault:
    op: str  # operationId, or "*" for any
    status: int
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    raw: bytes | None = None  # answer with this body as is (an HTML page, JSON without an id)
    content_type: str = "application/json; charset=utf-8"


@dataclass
class Delay:
    op: str
    seconds: float
    times: int = 1
    applied: bool = False  # sleep after the request took effect (a lost answer), else before it


@dataclass
class Logged:
    method: str
    path: str
    op: str
    status: int
    body: Any = None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Reject(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class FakeGitHub:
    def __init__(self) -> None:
        self.ops: list[Operation] = load()
        self.tokens: dict[str, str] = {TOKEN: "installation", PAT: "pat", OTHER_APP: "app"}  # token -> kind
        self.logins = {"installation": "github-actions[bot]", "pat": "octocat", "app": "other-app[bot]"}
        self.apps = {"installation": "github-actions", "app": "other-app"}  # who creates check runs
        self.refs: dict[tuple[str, str], str] = {}  # (repo, branch or tag) -> commit SHA
        self.files: dict[tuple[str, str, str], str] = {}  # (repo, commit SHA, path) -> text
        self.read_only = False  # every write answers 403 "Resource not accessible by integration"
        self.faults: list[Fault] = []
        self.delays: list[Delay] = []
        self.delaying = threading.Event()  # set when a delayed request starts waiting
        self.log: list[Logged] = []
        self.response_errors: list[str] = []
        self.repos: set[str] = set()
        self.pulls: dict[tuple[str, int], dict[str, Any]] = {}
        self.check_runs: list[dict[str, Any]] = []
        self.annotations: dict[int, list[dict[str, Any]]] = {}
        self.comments: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.parents: dict[tuple[str, str], list[str]] = {}  # (repo, sha) -> parent SHAs: the commit graph
        self._ids = 1000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- test-facing API -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    def add_pull(self, event: dict[str, Any]) -> None:
        """Register the repository and the PR of a pull_request payload."""
        base = event["pull_request"]["base"]["repo"]["full_name"]
        self.repos.add(base.lower())
        self.pulls[(base.lower(), int(event["number"]))] = event["pull_request"]

    def add_commits(self, repo: str, shas: list[str]) -> None:
        """A line of history, oldest first: each commit's parent is the one before it."""
        self.repos.add(repo.lower())
        for parent, sha in zip([None, *shas[:-1]], shas, strict=True):
            self.parents[(repo.lower(), sha)] = [parent] if parent else []

    def add_file(self, repo: str, sha: str, path: str, text: str) -> None:
        """A file as it is in one commit (the contents API answers it)."""
        self.repos.add(repo.lower())
        self.files[(repo.lower(), sha, path)] = text

    def fail(
        self, op: str, status: int, message: str = "", headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        self.faults.append(Fault(op, status, message, headers or {}, times))

    def answer(self, op: str, status: int, raw: bytes, content_type: str = "text/html", times: int = 1) -> None:
        """Answer ``op`` with a raw body (a proxy's HTML page, a success without the fields)."""
        self.faults.append(Fault(op, status, times=times, raw=raw, content_type=content_type))

    def delay(self, op: str, seconds: float, times: int = 1, applied: bool = False) -> None:
        """Hold ``op``'s answer for ``seconds``: before it takes effect, or (``applied``) after."""
        self.delays.append(Delay(op, seconds, times, applied))

    def _wait(self, op_id: str, applied: bool) -> None:
        for d in self.delays:
            if d.times > 0 and d.op in (op_id, "*") and d.applied == applied:
                d.times -= 1
                self.delaying.set()
                time.sleep(d.seconds)
                return

    def writes(self) -> list[Logged]:
        return [r for r in self.log if r.method in ("POST", "PATCH", "DELETE", "PUT")]

    def runs_for(self, repo: str, sha: str, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.check_runs
            if r["_repo"] == repo.lower() and r["head_sha"] == sha and (name is None or r["name"] == name)
        ]

    def comments_on(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["_repo"] == repo.lower() and c["_issue"] == number]

    def add_comment(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        return self._new_comment(repo.lower(), number, body, login)

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _any(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- plumbing ---------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        body: Any = None
        status, payload, op_id = 500, None, "?"
        headers: dict[str, str] = {}
        try:
            if not parts.path.startswith(PREFIX + "/"):
                raise Reject(404, "Not Found")
            path = parts.path[len(PREFIX) :]
            op, params = self._route(h.command, path)
            op_id = op.op_id
            kind = self._auth(h.headers.get("Authorization", ""))
            query = self._query(op, parts.query)
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise Reject(400, "Problems parsing JSON") from None
            if op.body is not None:
                errors = body_errors(op.body, body if body is not None else {})
                if body is None or errors:
                    raise Reject(422, "Invalid request.\n\n" + "\n".join(errors or ["body is required"]))
            self._wait(op_id, applied=False)
            raw_fault = self._fault(op_id)
            if raw_fault is not None:
                self.log.append(Logged(h.command, parts.path, op_id, raw_fault.status, body))
                self._send(h, raw_fault.status, raw_fault.raw or b"", {"Content-Type": raw_fault.content_type})
                return
            with self._lock:
                status, payload, headers = self._handle(op, kind, params, query, body, parts.path)
            self._wait(op_id, applied=True)
            if status < 300 and status in op.responses:
                errs = [e.message for e in op.responses[status].iter_errors(payload)][:3]
                if errs:
                    self.response_errors.append(f"{op_id}: {errs}")
        except Reject as exc:
            status, headers = exc.status, exc.headers
            payload = {"message": exc.message, "documentation_url": DOCS, "status": str(exc.status)}
        self.log.append(Logged(h.command, parts.path, op_id, status, body))
        data = b"" if payload is None else json.dumps(payload).encode()
        self._send(h, status, data, {"Content-Type": "application/json; charset=utf-8", **headers})

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
        try:
            h.send_response(status)
            h.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:  # the client gave up (a read timeout): nothing to answer
            pass

    def _route(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        for op in self.ops:
            m = op.regex.match(path)
            if m and op.method == method:
                params = m.groupdict()
                for name, value in params.items():
                    if check_param(op.path_params[name], value):
                        raise Reject(404, "Not Found")  # GitHub: a non-numeric id is no such resource
                return op, params
        raise Reject(404, "Not Found")

    def _auth(self, header: str) -> str:
        scheme, _, token = header.partition(" ")
        if not header:
            raise Reject(401, "Requires authentication")
        if scheme.lower() not in ("bearer", "token") or token not in self.tokens:
            raise Reject(401, "Bad credentials")
        return self.tokens[token]

    def _query(self, op: Operation, raw: str) -> dict[str, str]:
        query = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        for name, value in query.items():
            if name not in op.query_params:
                # Stricter than GitHub (which ignores it): a typo in our client should fail a test.
                raise Reject(422, f"unknown query parameter {name!r} for {op.op_id}")
            problem = check_param(op.query_params[name], value)
            if problem:
                raise Reject(422, f"Invalid request.\n\n{problem}")
        return query

    def _fault(self, op_id: str) -> Fault | None:
        """Raise the injected error for ``op_id``, or return an injected raw answer."""
        for fault in self.faults:
            if fault.times > 0 and fault.op in (op_id, "*"):
                fault.times -= 1
                if fault.raw is not None:
                    return fault
                raise Reject(
                    fault.status,
                    fault.message or {500: "Server Error", 404: "Not Found"}.get(fault.status, "Forbidden"),
                    fault.headers,
                )
        return None

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _repo(self, params: dict[str, str]) -> str:
        repo = f"{params['owner']}/{params['repo']}".lower()
        if repo not in self.repos:
            raise Reject(404, "Not Found")
        return repo

    def _page(self, items: list[Any], query: dict[str, str], path: str) -> tuple[list[Any], dict[str, str]]:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max(1, -(-len(items) // per_page))
        links = []
        base = {k: v for k, v in query.items() if k != "page"}
        for rel, n in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", last)):
            if 1 <= n <= last and (rel in ("first", "last") or n != page):
                url = f"{self.api_url}{path[len(PREFIX) :]}?{urlencode({**base, 'page': n})}"
                links.append(f'<{url}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if last > 1 else {}
        return items[(page - 1) * per_page : page * per_page], headers

    def _new_comment(self, repo: str, issue: int, body: str, login: str) -> dict[str, Any]:
        op = next(o for o in self.ops if o.op_id == "issues/create-comment")
        c = op.example(201)
        cid = self._next_id()
        c.update(
            id=cid,
            body=body,
            created_at=_now(),
            updated_at=_now(),
            url=f"https://api.github.com/repos/{repo}/issues/comments/{cid}",
            html_url=f"https://github.com/{repo}/pull/{issue}#issuecomment-{cid}",
            issue_url=f"https://api.github.com/repos/{repo}/issues/{issue}",
        )
        c["user"] = {**c["user"], "login": login, "type": "Bot" if login.endswith("[bot]") else "User"}
        c["_repo"], c["_issue"] = repo, issue
        self.comments.append(c)
        return c

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    # ---- GitHub's behaviour -----------------------------------------------------------
    def _handle(
        self, op: Operation, kind: str, p: dict[str, str], q: dict[str, str], body: Any, path: str
    ) -> tuple[int, Any, dict[str, str]]:
        oid = op.op_id
        if oid == "rate-limit/get":
            return 200, op.example(200), {}
        if oid == "users/get-authenticated":
            if kind == "installation":
                raise Reject(403, READ_ONLY)
            user = op.example(200)
            user["login"] = self.logins[kind]
            return 200, user, {}
        repo = self._repo(p)
        if op.method != "GET" and self.read_only:
            raise Reject(403, READ_ONLY)
        if oid.startswith("checks/") and kind == "pat":
            raise Reject(403, PAT_ON_CHECKS)
        if oid == "checks/create":
            return 201, self._create_run(op, repo, body, self.apps[kind]), {}
        if oid == "repos/get-commit":
            return 200, self._commit(op, repo, p["ref"]), {}
        if oid == "repos/get-content":
            return 200, self._content(op, repo, p["path"], q.get("ref", "")), {}
        if oid in ("checks/get", "checks/update"):
            run = next((r for r in self.check_runs if r["id"] == int(p["check_run_id"]) and r["_repo"] == repo), None)
            if run is None:
                raise Reject(404, "Not Found")
            if oid == "checks/update":
                self._update_run(run, body)
            return 200, self._public(run), {}
        if oid == "checks/list-for-ref":
            runs = [
                r
                for r in self.check_runs
                if r["_repo"] == repo
                and r["head_sha"] == p["ref"]
                and r["name"] == q.get("check_name", r["name"])
                and r["status"] == q.get("status", r["status"])
            ]
            if q.get("filter", "latest") == "latest":
                newest: dict[str, dict[str, Any]] = {}
                for r in runs:
                    newest[r["name"]] = r
                runs = list(newest.values())
            page, headers = self._page([self._public(r) for r in runs], q, path)
            return 200, {"total_count": len(runs), "check_runs": page}, headers
        if oid in ("issues/list-comments", "issues/create-comment"):
            number = int(p["issue_number"])
            if (repo, number) not in self.pulls:
                raise Reject(404, "Not Found")
            if oid == "issues/create-comment":
                return 201, self._public(self._new_comment(repo, number, body["body"], self.logins[kind])), {}
            items = [self._public(c) for c in self.comments if c["_repo"] == repo and c["_issue"] == number]
            page, headers = self._page(items, q, path)
            return 200, page, headers
        if oid in ("issues/update-comment", "issues/delete-comment"):
            comment = next((c for c in self.comments if c["id"] == int(p["comment_id"]) and c["_repo"] == repo), None)
            if comment is None:
                raise Reject(404, "Not Found")
            if oid == "issues/delete-comment":
                self.comments.remove(comment)
                return 204, None, {}
            comment.update(body=body["body"], updated_at=_now())
            return 200, self._public(comment), {}
        if oid == "repos/create-commit-status":
            return 201, self._create_status(op, repo, p["sha"], body), {}
        if oid == "repos/get-combined-status-for-ref":
            return 200, self._combined(op, repo, p["ref"]), {}
        if oid == "repos/list-commits":
            return (200, *self._page(self._history(op, repo, q.get("sha", "")), q, path))
        if oid == "pulls/get":
            pull = self.pulls.get((repo, int(p["pull_number"])))
            if pull is None:
                raise Reject(404, "Not Found")
            shaped = op.example(200)
            shaped.update({k: pull[k] for k in ("number", "state", "title") if k in pull})
            for side in ("head", "base"):
                shaped[side] = {**shaped[side], "sha": pull[side]["sha"], "ref": pull[side]["ref"]}
            shaped["requested_teams"] = []  # GitHub's own example lacks the schema's required `type` here
            return 200, shaped, {}
        raise Reject(404, "Not Found")

    def _history(self, op: Operation, repo: str, sha: str) -> list[dict[str, Any]]:
        """``sha`` and its ancestors, newest first (first parents: the histories here are lines)."""
        if (repo, sha) not in self.parents:
            raise Reject(404, "Not Found") if sha else Reject(409, "Git Repository is empty.")
        out = []
        cur: str | None = sha
        while cur is not None:
            commit = op.example(200)[0]
            parents = self.parents.get((repo, cur), [])
            commit.update(sha=cur, url=f"https://api.github.com/repos/{repo}/commits/{cur}")
            commit["html_url"] = f"https://github.com/{repo}/commit/{cur}"
            commit["parents"] = [{"sha": x, "url": f"https://api.github.com/repos/{repo}/commits/{x}"} for x in parents]
            out.append(commit)
            cur = parents[0] if parents else None
        return out

    def _commit(self, op: Operation, repo: str, ref: str) -> dict[str, Any]:
        sha = ref if re.fullmatch(r"[0-9a-f]{40}", ref) else self.refs.get((repo, ref.removeprefix("heads/")))
        if sha is None:
            raise Reject(422, f"No commit found for SHA: {ref}")
        commit = op.example(200)
        commit.update(sha=sha, url=f"https://api.github.com/repos/{repo}/commits/{sha}")
        commit["files"] = []  # GitHub's own example lacks the schema's required `sha` and `contents_url` here
        return commit

    def _content(self, op: Operation, repo: str, path: str, ref: str) -> dict[str, Any]:
        text = self.files.get((repo, ref, path))
        if text is None:
            raise Reject(404, "Not Found")
        data = text.encode()
        item = op.example(200)
        item.update(
            type="file",
            encoding="base64",
            size=len(data),
            name=path.rsplit("/", 1)[-1],
            path=path,
            content=base64.encodebytes(data).decode(),  # GitHub wraps the base64 at 60 columns
        )
        return item

    def _create_run(self, op: Operation, repo: str, body: dict[str, Any], app: str) -> dict[str, Any]:
        if not re.fullmatch(r"[0-9a-f]{40}", body["head_sha"]):
            raise Reject(422, f"No commit found for SHA: {body['head_sha']}")
        run = op.example(201)
        rid = self._next_id()
        run.update(
            id=rid,
            name=body["name"],
            head_sha=body["head_sha"],
            status="queued",
            conclusion=None,
            started_at=body.get("started_at", _now()),
            completed_at=None,
            details_url=body.get("details_url"),
            external_id=body.get("external_id"),
            url=f"https://api.github.com/repos/{repo}/check-runs/{rid}",
            html_url=f"https://github.com/{repo}/runs/{rid}",
            pull_requests=[],
        )
        run["output"] = {
            "title": None,
            "summary": None,
            "text": None,
            "annotations_count": 0,
            "annotations_url": f"{run['url']}/annotations",
        }
        run["app"] = {**run["app"], "slug": app, "name": app}
        run["_repo"] = repo
        self.annotations[rid] = []
        self._update_run(run, body)
        self.check_runs.append(run)
        return self._public(run)

    def _update_run(self, run: dict[str, Any], body: dict[str, Any]) -> None:
        if body.get("conclusion") == "stale":
            raise Reject(422, "Invalid request.\n\nconclusion 'stale' can only be set by GitHub.")
        if body.get("status") == "completed" and "conclusion" not in body:
            raise Reject(422, "Invalid request.\n\nconclusion is required when status is completed.")
        for key in ("name", "details_url", "external_id", "started_at", "status"):
            if key in body:
                run[key] = body[key]
        if body.get("conclusion") == "action_required" and not run.get("details_url"):
            # GitHub: "additional details should be provided on the site specified by details_url".
            raise Reject(422, "Invalid request.\n\ndetails_url is required when conclusion is action_required.")
        if "conclusion" in body:
            run.update(conclusion=body["conclusion"], status="completed", completed_at=body.get("completed_at", _now()))
        out = body.get("output")
        if out:
            if "summary" not in out or ("title" not in out and run["output"]["title"] is None):
                raise Reject(422, "Invalid request.\n\noutput requires title and summary.")
            run["output"].update({k: out[k] for k in ("title", "summary", "text") if k in out})
            self.annotations[run["id"]].extend(out.get("annotations", []))  # appended, as GitHub does
            run["output"]["annotations_count"] = len(self.annotations[run["id"]])

    def _create_status(self, op: Operation, repo: str, sha: str, body: dict[str, Any]) -> dict[str, Any]:
        status = op.example(201)
        sid = self._next_id()
        status.update(
            id=sid,
            state=body["state"],
            context=body.get("context", "default"),
            description=body.get("description"),
            target_url=body.get("target_url"),
            created_at=_now(),
            updated_at=_now(),
            url=f"https://api.github.com/repos/{repo}/statuses/{sha}",
        )
        status["_repo"], status["_sha"] = repo, sha
        self.statuses.append(status)
        return self._public(status)

    def _combined(self, op: Operation, repo: str, ref: str) -> dict[str, Any]:
        latest: dict[str, dict[str, Any]] = {}
        for s in self.statuses:  # the newest per context wins, listed newest first
            if s["_repo"] == repo and s["_sha"] == ref:
                latest[s["context"].lower()] = s
        mine = sorted(latest.values(), key=lambda s: s["id"], reverse=True)
        states = {s["state"] for s in mine}
        state = (
            "failure" if states & {"failure", "error"} else "pending" if not mine or "pending" in states else "success"
        )
        combined = op.example(200)
        combined.update(
            state=state,
            sha=ref,
            total_count=len(mine),
            statuses=[{k: v for k, v in self._public(s).items() if k in combined["statuses"][0]} for s in mine],
        )
        return combined
