"""GitHub's size limits on what the gate hands it, counted the way GitHub counts: in bytes.

A job's outputs share 1 MB (beyond that GitHub drops or fails them), and an annotation's
message is limited to 64 KB. Text from the training code (a reason, a check message) can be
any size, and one CJK character or emoji is 3-4 bytes, so a character count is not enough.
"""

from __future__ import annotations

OUTPUTS_BYTES = 1024 * 1024
OUTPUT_VALUE_BYTES = 64 * 1024  # one value; the rest of the 1 MB stays free for later steps
ANNOTATION_BYTES = 64 * 1024 - 1024  # headroom for the JSON escaping of the request body
ELLIPSIS = "…"


def clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (whole characters, with an ellipsis)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    room = limit - len(ELLIPSIS.encode())
    return data[: max(room, 0)].decode("utf-8", "ignore") + ELLIPSIS


def cap_outputs(values: dict[str, str], total: int = OUTPUTS_BYTES // 4) -> dict[str, str]:
    """Each value clipped, and all together within ``total`` bytes (a quarter of the job's
    1 MB by default: other steps of the job have outputs too)."""
    out: dict[str, str] = {}
    left = total
    for name, value in values.items():
        clipped = clip_bytes(value, min(OUTPUT_VALUE_BYTES, max(left - len(name.encode()) - 64, 0)))
        out[name] = clipped
        left -= len(name.encode()) + len(clipped.encode()) + 64  # the heredoc delimiter lines
    return out
