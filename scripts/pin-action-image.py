"""Point action.yml at one image digest: the release workflow's last step before it tags.

    python scripts/pin-action-image.py docker://ghcr.io/owner/overfit-gate@sha256:<64 hex>

Rewrites the single ``image:`` line of ``runs:`` in place. Refuses anything but a registry
reference by digest: a tag (``:v1``) can be re-pushed, so it would not pin the code that runs
with the runner's Docker socket."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIGEST_REF = re.compile(
    r"docker://[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z]{2,})?(:\d+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)+@sha256:[0-9a-f]{64}"
)
IMAGE_LINE = re.compile(r"^(  image: ).*$", re.M)


def pin(text: str, ref: str) -> str:
    if not DIGEST_REF.fullmatch(ref):
        raise ValueError(f"not an image reference by digest (docker://REGISTRY/NAME@sha256:<64 hex>): {ref!r}")
    runs = text.index("\nruns:\n")
    head, tail = text[:runs], text[runs:]
    new, count = IMAGE_LINE.subn(lambda m: m.group(1) + ref, tail, count=1)
    if count != 1:
        raise ValueError("action.yml has no `  image:` line under `runs:`")
    return head + new


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = ROOT / "action.yml"
    try:
        path.write_text(pin(path.read_text(), argv[0]))
    except ValueError as exc:
        print(f"pin-action-image: {exc}", file=sys.stderr)
        return 2
    print(f"action.yml now runs {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
