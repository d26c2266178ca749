"""Code in, result out, through the API server alone (no shared volume, no registry, no token).

In: once the container runs, the controller opens an exec session (``pods/exec``, as
``kubectl cp`` does) and streams one gzipped tar: the harness (``gate/harness``), ``spec.json``
and the working directory. A Python one-liner in the image unpacks it (the image has Python;
it may lack ``tar``) and writes ``.ready`` last; the bootstrap waits for that file.

Out: when the harness exits, the bootstrap prints ``out/`` (result.json, loss.csv) as a
base64 tar between marker lines carrying a per-run nonce, then exits with the harness's code.
The controller already follows the pod log, so no second exec is needed and the pod can end
(Succeeded/Failed) on its own; the markers are cut from the CI log.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from gate.errors import RunnerError
from gate.runners.base import SPEC_FILE

PACKAGE_ROOT = Path(__file__).resolve().parents[3]
UPLOAD_LIMIT = 1 << 30  # bytes, uncompressed: the workspace lands in an emptyDir on the node
OUTPUT_LIMIT = 32 << 20  # bytes of result files accepted back (result.json + loss.csv are KBs)
READY = ".ready"
WAIT_READY_S = 600  # the bootstrap gives up (exit 125) if no workspace arrives
EXIT_NO_WORKSPACE = 125
SKIP_DIRS = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_OUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# Runs in the pod as `sh -c BOOTSTRAP overfit-gate ROOT NONCE PYTHON EMIT`: arguments, never interpolated.
BOOTSTRAP = r"""root="$1"; nonce="$2"; py="$3"; i=0
while [ ! -e "$root/.ready" ]; do
  i=$((i + 1)); if [ "$i" -gt WAIT_TICKS ]; then echo "overfit-gate: no workspace arrived" >&2; exit NO_WS; fi
  sleep 0.2
done
[ -n "$py" ] || py="$(command -v python || command -v python3)"
[ -n "$py" ] || { echo "overfit-gate: the image has neither python nor python3" >&2; exit 127; }
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
[ -w "${HOME:-/}" ] || export HOME=/tmp
cd "$root/work" || exit NO_WS
"$py" -m gate.harness --spec "$root/out/spec.json"
code=$?
"$py" -c "$4" "$root/out" "$nonce" "$code"
exit "$code"
""".replace("WAIT_TICKS", str(WAIT_READY_S * 5)).replace("NO_WS", str(EXIT_NO_WORKSPACE))

# Prints out/ as marked base64 lines (flat regular files only, spec.json excluded).
EMIT = r"""import base64, io, os, sys, tarfile
out, nonce, code = sys.argv[1:4]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if name != "spec.json" and os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) <= LIMIT:
            tar.add(path, name)
data = base64.b64encode(buf.getvalue()).decode()
tag = "::overfit-gate-" + nonce + "::"
print(tag + "begin " + str(len(data)), flush=True)
for i in range(0, len(data), 3000):
    print(tag + data[i:i + 3000], flush=True)
print(tag + "end " + code, flush=True)
""".replace("LIMIT", str(OUTPUT_LIMIT))

# Runs in the pod as `python -c RECEIVE ROOT SIZE`: reads exactly SIZE bytes (WebSocket exec has
# no end-of-stdin before the v5 protocol), unpacks them, then marks the workspace ready.
RECEIVE = r"""import os, sys, tarfile
root, size = sys.argv[1], int(sys.argv[2])
class Exact:
    def __init__(self, f, n): self.f, self.n = f, n
    def read(self, k=-1):
        k = self.n if k is None or k < 0 else min(k, self.n)
        data = self.f.read(k) if k else b""
        if k and not data: sys.exit("overfit-gate: the upload stopped %d bytes short" % self.n)
        self.n -= len(data)
        return data
src = Exact(sys.stdin.buffer, size)
with tarfile.open(fileobj=src, mode="r|gz") as tar:
    kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    tar.extractall(root, **kw)
while src.read(65536): pass
open(os.path.join(root, ".ready"), "w").close()
print("received", size, flush=True)
"""


def bootstrap_command(root: str, nonce: str, python: str | None) -> list[str]:
    return ["/bin/sh", "-c", BOOTSTRAP, "overfit-gate", root, nonce, python or "", EMIT]


def receive_command(root: str, size: int, python: str | None) -> list[str]:
    pick = 'py="${3:-$(command -v python || command -v python3)}"; exec "$py" -c "$0" "$1" "$2"'
    return ["/bin/sh", "-c", pick, RECEIVE, root, str(size), python or ""]


def _skip(path: Path) -> bool:
    # A virtualenv belongs to the machine it was made on; the image brings its own Python.
    return path.name in SKIP_DIRS or (path / "pyvenv.cfg").is_file()


def _add_tree(tar: tarfile.TarFile, workdir: Path, exclude: set[Path]) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(workdir):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skip(here / d) and (here / d).resolve() not in exclude)
        for name in sorted(filenames):
            path = here / name
            arc = "work/" + path.relative_to(workdir).as_posix()
            if path.is_symlink():
                target = os.readlink(path)
                inside = not os.path.isabs(target) and workdir in (here / target).resolve().parents
                if inside:  # links out of the workspace would dangle in the pod
                    tar.add(path, arc, recursive=False)
                continue
            if path.is_file():
                total += path.stat().st_size
                if total > UPLOAD_LIMIT:
                    raise RunnerError(
                        f"the working directory {workdir} holds more than {UPLOAD_LIMIT >> 20} MiB to upload",
                        hint="the kubernetes runner copies `working-directory` into the pod: point it at the "
                        "project's folder, keep data sets and checkpoints out of it (bake them into the image "
                        "or let the task make a small batch)",
                    )
                tar.add(path, arc, recursive=False)
    return total


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def workspace_archive(workdir: Path, out_dir: Path, spec: Mapping[str, Any]) -> IO[bytes]:
    """The upload as a temporary file (seeked to 0): never the whole workspace in memory."""
    fh = tempfile.TemporaryFile()  # noqa: SIM115  # returned open: the caller streams and closes it
    with gzip.GzipFile(fileobj=fh, mode="wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for d in ("gate", "gate/harness", "out", "work"):
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        files = [PACKAGE_ROOT / "gate" / "__init__.py", *sorted((PACKAGE_ROOT / "gate" / "harness").rglob("*.py"))]
        for f in files:
            _add_bytes(tar, f.relative_to(PACKAGE_ROOT).as_posix(), f.read_bytes())
        _add_bytes(tar, f"out/{SPEC_FILE}", json.dumps(dict(spec), indent=2).encode())
        _add_tree(tar, workdir, {out_dir.resolve()})
    fh.seek(0)
    return fh


class OutputCollector:
    """Reassembles the marked block from log lines; ``feed`` says whether a line was ours."""

    def __init__(self, nonce: str) -> None:
        self.tag = f"::overfit-gate-{nonce}::"
        self.parts: list[str] = []
        self.expected: int | None = None
        self.exit_code: int | None = None

    def feed(self, line: str) -> bool:
        if not line.startswith(self.tag):
            return False
        body = line[len(self.tag) :].strip()
        if body.startswith("begin "):
            self.parts, self.expected, self.exit_code = [], int(body.split()[1]), None
        elif body.startswith("end "):
            self.exit_code = int(body.split()[1])
        elif self.expected is not None and self.exit_code is None and self.expected <= OUTPUT_LIMIT * 2:
            self.parts.append(body)  # bounded: the pod's output is untrusted
        return True

    @property
    def complete(self) -> bool:
        return self.exit_code is not None and len("".join(self.parts)) == self.expected

    def write(self, out_dir: Path) -> list[str]:
        """Unpack into out_dir: flat regular files with plain names only (the pod is untrusted).
        A malformed block writes nothing (the missing result.json then says what happened)."""
        try:
            return self._write(out_dir)
        except (ValueError, tarfile.TarError, OSError, EOFError):
            return []

    def _write(self, out_dir: Path) -> list[str]:
        raw = base64.b64decode("".join(self.parts), validate=True)
        written: list[str] = []
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
            budget = OUTPUT_LIMIT
            for member in tar:
                if not member.isreg() or not _OUT_NAME.fullmatch(member.name) or member.name == SPEC_FILE:
                    continue
                budget -= member.size
                src = tar.extractfile(member)
                if budget < 0 or src is None:
                    break
                (out_dir / member.name).write_bytes(src.read(member.size))
                written.append(member.name)
        return written


def upload(core: Any, pod: str, namespace: str, archive: IO[bytes], root: str, python: str | None) -> None:
    """Stream the archive into the running container through the exec API (``pods/exec``)."""
    from kubernetes.stream import stream

    from gate.runners.kubernetes.cluster import api_error
    from gate.runners.kubernetes.jobspec import CONTAINER

    size = archive.seek(0, os.SEEK_END)
    archive.seek(0)
    try:
        ws = stream(
            core.connect_get_namespaced_pod_exec,
            pod,
            namespace,
            container=CONTAINER,
            command=receive_command(root, size, python),
            stdin=True,
            stdout=True,
            stderr=True,
            tty=False,
            binary=True,
            _preload_content=False,
        )
    except Exception as exc:
        raise api_error(exc, "open an exec session (pods/exec) to upload the workspace", namespace) from None
    try:
        try:
            while chunk := archive.read(1 << 20):
                ws.update(timeout=0)
                if not ws.is_open():
                    break
                ws.write_stdin(chunk)
            ws.close_channel(0)  # end of stdin where the v5 protocol allows it; the size says it anyway
        except Exception:  # the command ended early (the connection is closed): its status says why
            pass
        with contextlib.suppress(Exception):
            ws.run_forever(timeout=300)
        err = ws.read_stderr()
        try:
            code = ws.returncode
        except (TypeError, KeyError, IndexError, ValueError):  # closed without a Status on channel 3
            code = None
    finally:
        ws.close()
    if code != 0:
        text = err.decode("utf-8", "replace").strip() if isinstance(err, bytes) else str(err).strip()
        raise RunnerError(
            f"uploading the workspace into the pod failed (exit {code}): {text[-500:] or 'no message'}",
            hint="the image needs a `python` or `python3` on PATH (and `/bin/sh`); the `python` key names another",
        )
