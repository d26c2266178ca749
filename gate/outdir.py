"""Writing into the report folder without following links planted there.

The folder is shared with the training code (the local runner's child, the docker runner's
container running as the workspace owner), while the controller may run as root (a container
action). Anything there can be swapped for a symlink to, say, ``/etc/passwd`` between two of
our calls. So every write goes through a file descriptor of the folder itself, opened with
``O_NOFOLLOW``; the file is created under a fresh random name with ``O_CREAT | O_EXCL |
O_NOFOLLOW`` (which never opens an existing file or link) and renamed over the target, and a
rename replaces a link instead of writing through it. A target that is a directory (or any
other non-regular file that a rename cannot replace) is refused with an ``OSError``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def ensure_dir(path: Path) -> None:
    """Create the folder (and parents); a symlink or a file in its place is an error."""
    path.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or not path.is_dir():
        raise NotADirectoryError(f"{path} is not a directory (a symlink or a file is in its place)")


def write_bytes(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Atomically replace ``path`` (in a folder that is not a symlink) with ``data``."""
    ensure_dir(path.parent)
    dir_fd = os.open(path.parent, _DIR_FLAGS)
    try:
        _refuse_non_regular(path.name, dir_fd, path)
        tmp = f".{path.name}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, _FILE_FLAGS, mode, dir_fd=dir_fd)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
    finally:
        os.close(dir_fd)
    return path


def write_text(path: Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def remove(path: Path) -> None:
    """Remove a file or a link (never what a link points to); a directory is left alone."""
    with contextlib.suppress(FileNotFoundError):
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(path)


def _refuse_non_regular(name: str, dir_fd: int, shown: Path) -> None:
    try:
        st = os.lstat(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{shown} is a directory, not a file; refusing to write over it")
