"""Everything the training code started, found and ended after every run (local runner).

Killing the harness's process group is not enough: a process can leave it (``setsid``,
``setpgid``) and a double fork hands it to init. On Linux the gate therefore
- becomes a *child subreaper* for the run (``PR_SET_CHILD_SUBREAPER``): an orphan anywhere
  below it is re-parented to the gate instead of init, so it stays findable;
- remembers every descendant it sees (pid and start time, read from ``/proc`` about once a
  second), for the case where the subreaper could not be set;
- at the end (a normal exit, a timeout, a cancel) SIGKILLs the process group, every
  remembered descendant still alive, and every new child of its own, until none is left.
Limits (docs/security.md): a process started through a daemon (``docker run``, ``systemd-run``,
``at``) is not a descendant and is not found; elsewhere than Linux only the group is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import time
from pathlib import Path

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PROC = Path("/proc")


def prctl(option: int, value: int) -> bool:
    """``prctl(option, value)``; False where there is no prctl (not Linux) or it failed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def make_undumpable() -> bool:
    """Training code runs as the same user as the gate and could otherwise read the gate's
    ``/proc/<pid>/environ`` (the token) or attach a debugger; a non-dumpable process's
    /proc files belong to root. ``execve`` resets the flag, so the harness is unaffected."""
    return prctl(PR_SET_DUMPABLE, 0)


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of ``pid``, or None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = raw.rpartition(")")[2].split()  # the name, in parentheses, may hold spaces
    try:
        return int(fields[1]), fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _table() -> dict[int, tuple[int, str, int]]:
    table = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None:
                table[int(entry.name)] = st
    return table


class ProcessTree:
    """The processes below the gate that one run started."""

    def __init__(self) -> None:
        self.me = os.getpid()
        self.before = self._children(_table())  # our children before the run: not the run's
        self.seen: dict[int, int] = {}  # pid -> start time
        self.waited: set[int] = set()  # children a Popen waits for: reaping them here would steal their status
        self.subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1)

    def _children(self, table: dict[int, tuple[int, str, int]]) -> set[tuple[int, int]]:
        return {(pid, st[2]) for pid, st in table.items() if st[0] == self.me}

    def _below(self, table: dict[int, tuple[int, str, int]], roots: set[int]) -> set[int]:
        found, frontier = set(), set(roots)
        while frontier:
            frontier = {pid for pid, st in table.items() if st[0] in frontier and pid not in found}
            found |= frontier
        return found

    def scan(self) -> set[int]:
        """Remember (and return) the live processes the run started."""
        table = _table()
        ours = {pid for pid, start in self._children(table) - self.before}
        alive = {pid for pid in ours | self._below(table, ours) if table[pid][1] != "Z"}
        for pid, start in list(self.seen.items()):  # re-parented elsewhere, still ours if the same process
            if pid in table and table[pid][2] == start and table[pid][1] != "Z":
                alive.add(pid)
        self.seen.update({pid: table[pid][2] for pid in alive})
        return alive

    def kill_all(self, group: int | None = None, rounds: int = 50) -> int:
        """SIGKILL the run's process group and every process it left; the number killed."""
        if group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        killed: set[int] = set()
        for _ in range(rounds):  # a forking process may spawn while we kill: repeat until quiet
            alive = self.scan()
            if not alive:
                break
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            self._reap()
            time.sleep(0.02)
        self._reap()
        return len(killed)

    def _reap(self) -> None:
        """Collect the run's processes that were re-parented to us (we are their subreaper)."""
        table = _table()
        for pid, _start in self._children(table) - self.before:
            if pid in self.waited:
                continue
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)

    def close(self) -> None:
        if self.subreaper:
            prctl(PR_SET_CHILD_SUBREAPER, 0)
