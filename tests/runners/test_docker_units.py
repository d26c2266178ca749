"""The docker runner's pure parts, without an engine: host path translation, the GPU request,
log line splitting, and what of the gate is copied into the training container."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from gate.errors import ConfigError, RunnerError
from gate.runners.docker import _lines
from gate.runners.docker_paths import PathMap, own_container_id
from gate.runners.docker_setup import device_requests, harness_archive

CID = "a" * 64
MOUNTINFO = f"""\
1510 1400 0:123 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X
1530 1510 8:1 /var/lib/docker/containers/{CID}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw
"""


def test_own_container_id() -> None:
    assert own_container_id(MOUNTINFO) == CID
    assert own_container_id("22 1 8:1 / / rw - ext4 /dev/vda rw\n") is None
    # On a Docker host, other containers' shm mounts are in our mount table: not our id.
    host = f"99 22 0:50 / /var/lib/docker/containers/{CID}/mounts/shm rw - tmpfs shm rw\n"
    assert own_container_id(host) is None


def test_paths_map_through_the_mount_that_holds_them() -> None:
    pm = PathMap.from_mounts(
        [
            {"Type": "bind", "Source": "/home/runner/work/repo/repo", "Destination": "/github/workspace"},
            {"Type": "bind", "Source": "/srv/cache", "Destination": "/github/workspace/cache"},
            {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"},
        ],
        CID,
    )
    assert pm.host(Path("/github/workspace")) == "/home/runner/work/repo/repo"
    assert pm.host(Path("/github/workspace/sub/out")) == "/home/runner/work/repo/repo/sub/out"
    assert pm.host(Path("/github/workspace/cache/x")) == "/srv/cache/x"  # the longest mount wins
    with pytest.raises(RunnerError, match="inside the gate's own container") as exc:
        pm.host(Path("/github/workspaceX/y"))  # a prefix of the string, not of the path
    assert "GITHUB_WORKSPACE" in exc.value.hint
    assert PathMap().host(Path("/any/where")) == "/any/where"  # on the host: unchanged


def test_gpu_requests() -> None:
    assert device_requests("0") == []
    (one,) = device_requests("1")
    assert one["Count"] == 1 and one["Capabilities"] == [["gpu"]]
    (dev,) = device_requests("device=3")
    assert dev["DeviceIDs"] == ["3"] and dev["Capabilities"] == [["gpu"]] and not dev.get("Count")
    for bad in ("2", "all", "device=", "cuda:0"):
        with pytest.raises(ConfigError, match="gpus"):
            device_requests(bad)


def test_log_chunks_become_lines() -> None:
    chunks = [b"step 1", b"5 loss 1.0\nstep 2", b"0 loss 0.5\n\nlast"]
    assert list(_lines(iter(chunks))) == [b"step 15 loss 1.0", b"step 20 loss 0.5", b"", b"last"]


def test_only_the_harness_goes_into_the_container() -> None:
    with tarfile.open(fileobj=io.BytesIO(harness_archive("overfit-gate"))) as tar:
        names = set(tar.getnames())
    assert "overfit-gate/gate/__init__.py" in names
    assert "overfit-gate/gate/harness/__main__.py" in names
    assert not any(
        n.startswith("overfit-gate/gate/")
        and "/harness" not in n
        and not n.endswith("gate/__init__.py")
        and n != "overfit-gate/gate"
        for n in names
    ), names  # no controller, no pydantic
