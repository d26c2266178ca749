"""Markdown building blocks for the report: table cells, inline code and fences that untrusted
text cannot break out of (a pipe, a backtick run, a newline), and clipping to a length.

What the text may *say* is made inert by ``untrusted.py``; here it is fitted into the Markdown
structure around it (gate/report/markdown.py) without ending a cell, a span or a fence early.
"""

from __future__ import annotations

from gate.report.untrusted import inline, strip_invisible


def fence(text: str, lang: str) -> str:
    # A fence longer than any backtick run inside, so a traceback can never close it early;
    # bidi and zero-width characters removed, so the code shown is the code that ran.
    text = strip_invisible(text)
    longest = max((len(run) for run in text.split("\n") for run in ticks(run)), default=0)
    delim = "`" * max(3, longest + 1)
    return f"{delim}{lang}\n{text}\n{delim}"


def ticks(line: str) -> list[str]:
    """The runs of backticks in ``line`` (a delimiter must be longer than every one)."""
    runs, cur = [], ""
    for ch in line:
        if ch == "`":
            cur += ch
        elif cur:
            runs.append(cur)
            cur = ""
    return [*runs, cur] if cur else runs


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def esc(text: str) -> str:
    # Untrusted (the code under test, or a fork's report folder): one inert line, HTML escaped
    # (GitHub drops unknown tags: "<module>" would vanish), no mention, link or fake heading.
    return inline(text)


def cell(text: str, limit: int) -> str:
    """One table cell: no raw pipes or newlines (they end the cell or the table)."""
    flat = " ".join(text.split())
    return esc(clip(flat, limit)).replace("|", "\\|")


def code(text: str, limit: int, table: bool = False) -> str:
    """Inline code: entities are not decoded inside it, so no HTML escaping; a backtick
    inside needs a longer delimiter; a pipe still needs escaping inside a table."""
    flat = clip(" ".join(strip_invisible(text).split()), limit)
    if table:
        flat = flat.replace("|", "\\|")
    delim = "`" * (max((len(r) for r in ticks(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{delim}{pad}{flat}{pad}{delim}"


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
