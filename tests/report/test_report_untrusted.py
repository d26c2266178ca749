"""Untrusted text in the bot's Markdown is inert: gate.report.untrusted (the end-to-end view is
in test_security_github.py)."""

from __future__ import annotations

import pytest

from gate.report.untrusted import ZWSP, inline, strip_invisible


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ping @octo-org/admins and @bob", f"ping @{ZWSP}octo-org/admins and @{ZWSP}bob"),
        ("fixes #12, o/r#3 and GH-4", f"fixes #{ZWSP}12, o/r#{ZWSP}3 and GH{ZWSP}-4"),
        ("[click](https://x.io) ![p](y)", f"\\[click\\](https{ZWSP}://x.io) \\!\\[p\\](y)"),
        ("see www.x.io or <a href=x>", f"see www{ZWSP}.x.io or &lt;a href=x&gt;"),
        ("two\nlines\n# Approved", "two lines # Approved"),  # one line: no heading mid-paragraph
        ("```python", "\\`\\`\\`python"),  # no fence that swallows the report
        ("call `loss.backward()` first", "call `loss.backward()` first"),  # code spans stay code
        ("\u202egnp.exe\u202c a\u200bb\ufeff", "gnp.exe ab"),
    ],
)
def test_inline(text: str, expected: str) -> None:
    assert inline(text) == expected


@pytest.mark.parametrize("text", ["# Approved", "- item", "* item", "+ item", "1. item", "2) item", "___", "= x"])
def test_a_paragraph_cannot_start_a_block(text: str) -> None:
    out = inline(text, starts_block=True)
    assert out != text and out.replace("\\", "", 1) == text
    assert inline(text) == text  # in a table cell or mid-line it is plain text already


def test_strip_invisible_keeps_text_and_layout() -> None:
    assert strip_invisible("a\u2066b\u2069\tc\nd\x1b[31m") == "ab\tc\nd[31m"
