"""Follow the training container's log live (``pods/log``, follow=true). A stream the API
server drops is reopened where it stopped: lines carry the kubelet's timestamps, so the
reopened stream (``sinceSeconds``, rounded up) is cut at the last line already shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from gate.runners.kubernetes.jobspec import CONTAINER

Stamp = tuple[int, int]  # (epoch seconds, nanoseconds)


def parse_stamp(text: str) -> Stamp | None:
    """RFC 3339 with up to nine fraction digits, as the kubelet writes (trailing zeros trimmed)."""
    from datetime import datetime, timezone

    if not text.endswith("Z") or "T" not in text:
        return None
    whole, _, frac = text[:-1].partition(".")
    try:
        seconds = int(datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
        return seconds, int((frac or "0").ljust(9, "0")[:9])
    except ValueError:
        return None


def split_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *done, pending = pending.split(b"\n")
        for line in done:
            yield line.decode("utf-8", "replace").rstrip("\r")
    if pending:
        yield pending.decode("utf-8", "replace").rstrip("\r")


class LogFollower:
    """Calls ``sink(line)`` for every log line, once, in order, until ``finish()`` is called and
    the stream has ended (the container terminated, so the kubelet has sent everything)."""

    def __init__(self, core: Any, pod: str, namespace: str, sink: Callable[[str], None]) -> None:
        self.core, self.pod, self.namespace, self.sink = core, pod, namespace, sink
        self._finished = threading.Event()
        self._last: Stamp | None = None
        self._at_last = 0  # lines already shown that carry exactly the last stamp
        self._skip = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, name="overfit-gate-k8s-log", daemon=True)

    def start(self) -> LogFollower:
        self.thread.start()
        return self

    def finish(self, wait: float = 15.0) -> None:
        self._finished.set()
        self.thread.join(timeout=wait)

    def _open(self) -> Any:
        kwargs: dict[str, Any] = {"container": CONTAINER, "follow": True, "timestamps": True}
        if self._last is not None:
            kwargs["since_seconds"] = max(1, int(time.time() - self._last[0]) + 2)
            self._skip = self._at_last  # those lines come again: show them once
        return self.core.read_namespaced_pod_log(self.pod, self.namespace, _preload_content=False, **kwargs)

    def _run(self) -> None:
        while True:
            last_round = self._finished.is_set()
            try:
                resp = self._open()
                try:
                    for line in split_lines(resp.stream(65536)):
                        self._emit(line)
                finally:
                    resp.release_conn()
            except Exception as exc:  # a dropped stream or an API error: reopen while the pod runs
                self.errors.append(str(exc))
            if last_round or len(self.errors) > 50:
                return
            self._finished.wait(0.5)

    def _emit(self, line: str) -> None:
        stamp_text, _, text = line.partition(" ")
        stamp = parse_stamp(stamp_text)
        if stamp is None:  # not timestamped (a kubelet would not do that): show it as it is
            self.sink(line)
            return
        if self._last is not None and stamp < self._last:
            return
        if stamp == self._last:
            if self._skip > 0:
                self._skip -= 1
                return
            self._at_last += 1
        else:
            self._last, self._at_last, self._skip = stamp, 1, 0
        self.sink(text)
