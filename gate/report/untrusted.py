"""Untrusted text made inert for the Markdown the bot posts (PR comment, check run, job summary).

Reasons, check messages, hints, error messages and names come from the code under test, or from
a report folder a fork uploaded. Posted verbatim by the bot they could ping people (``@org/team``),
cross-reference issues (``#1``), show links and images, fake a heading or an "approved" line,
open a code fence that swallows the rest of the report, or hide text with bidi and zero-width
characters. Here they become plain text: one line; mentions, references and autolinks broken
by a zero-width space the reader does not see; Markdown and HTML syntax escaped; invisible
format characters removed. Inline code spans are kept (they render as code, where nothing is
live), so a message can still say ``loss.backward()``.
"""

from __future__ import annotations

import re
import unicodedata

ZWSP = "\u200b"  # our own, inserted after the character that would start a mention or a link
_KEEP = {"\t", "\n"}
_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_ESCAPE = re.compile(r"[\\`\[\]!~]")  # emphasis (* _) is harmless and common in names
_LEADING = re.compile(r"^(?:[#+=*_-]|\d+(?=[.)]))")
_LIVE = (
    (re.compile(r"@(?=[A-Za-z0-9])"), "@" + ZWSP),  # @user, @org/team, user@example.com
    (re.compile(r"#(?=\d)"), "#" + ZWSP),  # #12, owner/repo#12: cross-references
    (re.compile(r"\b(GH)-(?=\d)", re.I), r"\1" + ZWSP + "-"),
    (re.compile(r"(?<=[A-Za-z])://"), ZWSP + "://"),  # https://... autolinks
    (re.compile(r"\bwww\.", re.I), "www" + ZWSP + "."),
)


def strip_invisible(text: str) -> str:
    """Drop format characters (bidi controls, zero-width, BOM, tags) and control characters
    other than tab and newline: what the reader sees is what the text says."""
    return "".join(ch for ch in text if ch in _KEEP or unicodedata.category(ch) not in ("Cf", "Cc"))


def _defuse(text: str) -> str:
    for pattern, repl in _LIVE:
        text = pattern.sub(repl, text)
    return text


def _plain(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _ESCAPE.sub(lambda m: "\\" + m.group(0), text)


def inline(text: str, starts_block: bool = False) -> str:
    """Untrusted text as one inert line of inline Markdown (pipes are the table's business).
    ``starts_block``: it opens a paragraph or list item, where `# x`, `- x` or `1. x` would make
    a heading or a list (in a table cell or mid-line they are plain text)."""
    flat = " ".join(strip_invisible(text).split())
    out, pos = [], 0
    for m in _SPAN.finditer(flat):
        out.append(_plain(flat[pos : m.start()]))
        out.append(m.group(0))  # a code span: rendered literally, nothing in it is live
        pos = m.end()
    out.append(_plain(flat[pos:]))
    joined = _defuse("".join(out))
    # A paragraph that starts like a heading, quote, list or rule would become one.
    lead = _LEADING.match(joined) if starts_block else None
    if lead is None:
        return joined
    cut = lead.end() if lead.group(0)[0].isdigit() else 0  # `1\. x` is not a list item; `\# x` no heading
    return joined[:cut] + "\\" + joined[cut:]
