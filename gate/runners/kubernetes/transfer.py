"""Code in, result out, through the API server alone (no shared volume, no registry, no token).

In: once the container runs, the controller opens an exec session (``pods/exec``, as
``kubectl cp`` does) and streams one gzipped tar: the harness (``gate/harness``), ``spec.json``
and the working directory. A Python one-liner in the image unpacks it (the image has Python;
it may lack ``tar``) and writes ``.ready`` last; the bootstrap waits for that file (the in-pod
halves are in podscripts.py).

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
from gate.runners.kubernetes.podscripts import OUTPUT_LIMIT, receive_command

PACKAGE_ROOT = Path(__file__).resolve().parents[3]
UPLOAD_LIMIT = 1 << 30  # bytes, uncompressed: the workspace lands in an emptyDir on the node
SKIP_DIRS = {".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
_OUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


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


def upload(
    core: Any, pod: str, namespace: str, archive: IO[bytes], root: str, python: str | None, stop: Any = None
) -> None:
    """Stream the archive into the running container through the exec API (``pods/exec``).
    ``stop`` (an Event) cuts a long upload short on cancel; the caller then deletes the Job."""
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
                if not ws.is_open() or (stop is not None and stop.is_set()):
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
