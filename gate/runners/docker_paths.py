"""Host paths for bind mounts when the gate itself runs in a container.

A GitHub container action runs the gate in its own container with the workspace mounted at
``/github/workspace`` and the host's Docker socket mounted in. The training container is a
*sibling* started by the host daemon, so its bind mounts must name paths on the host, not in
our container. We find our own container (its id appears in ``/proc/self/mountinfo``), ask the
daemon for its mounts, and map each path through the mount that holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gate.errors import RunnerError

# /var/lib/docker/containers/<id>/hostname (and resolv.conf, hosts) are bind-mounted into every
# container; this works on cgroup v1 and v2, unlike parsing /proc/self/cgroup. Only those mount
# points count: on a Docker host, other containers' .../containers/<id>/mounts/shm show up too.
_CONTAINER_ID = re.compile(r"/containers/([0-9a-f]{64})/")
_MARKERS = ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf")


def own_container_id(mountinfo: str | None = None) -> str | None:
    """Our container's id, or None when we are not in a Docker container."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return None
    for line in mountinfo.splitlines():
        fields = line.split()
        # fields: id, parent, major:minor, root (path in the source fs), mount point, ...
        if len(fields) > 4 and fields[4] in _MARKERS:
            match = _CONTAINER_ID.search(fields[3])
            if match:
                return match.group(1)
    return None


@dataclass(frozen=True)
class PathMap:
    """(path in our container, path on the host) pairs; empty means we run on the host."""

    mounts: tuple[tuple[str, str], ...] = ()
    container_id: str | None = None

    @classmethod
    def from_mounts(cls, mounts: Iterable[dict[str, Any]], container_id: str | None = None) -> PathMap:
        pairs = [(str(m["Destination"]), str(m["Source"])) for m in mounts if m.get("Destination") and m.get("Source")]
        # Longest destination first, so /github/workspace/sub wins over /github/workspace.
        pairs.sort(key=lambda p: len(p[0]), reverse=True)
        return cls(tuple(pairs), container_id)

    @classmethod
    def detect(cls, client: Any) -> PathMap:
        cid = own_container_id()
        if cid is None:
            return cls()
        try:
            attrs = client.api.inspect_container(cid)
        except Exception:
            # Our container belongs to another daemon (docker-in-docker): its paths are
            # not ours to translate, and the daemon sees what we see only if shared.
            return cls()
        return cls.from_mounts(attrs.get("Mounts") or [], cid)

    def host(self, path: Path) -> str:
        """The host path for ``path`` (absolute, as seen by the gate)."""
        if self.container_id is None:
            return str(path)
        p = PurePosixPath(path)
        for dest, source in self.mounts:
            d = PurePosixPath(dest)
            if p == d or d in p.parents:
                return str(PurePosixPath(source) / p.relative_to(d))
        raise RunnerError(
            f"{path} is inside the gate's own container (id {self.container_id[:12]}) and not on a volume, "
            "so the training container cannot see it",
            hint="keep the project and the `out` folder inside the workspace (GITHUB_WORKSPACE), "
            "which Actions mounts from the host",
        )
