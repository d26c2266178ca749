"""Regenerate the generated parts of README.md: the config key table (from the config
registry) and the feature sections (from docs/*.md). `--check` fails when README is stale;
the test suite runs it so docs never drift from the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.config import keys_table  # noqa: E402

# The feature docs, in README order. Each file's headings are demoted one level.
SECTIONS = ["checks.md", "script-mode.md", "reports.md", "github.md", "baseline.md", "actions.md"]


def _demote(text: str) -> str:
    return re.sub(r"^(#+) ", lambda m: "#" + m.group(1) + " ", text, flags=re.M)


def _between(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text)


def render(readme: str) -> str:
    readme = _between(readme, "config-table", keys_table())
    parts = []
    for name in SECTIONS:
        path = ROOT / "docs" / name
        if path.is_file():
            text = path.read_text().strip()
            # Links relative to docs/ must still work from the repo root.
            text = re.sub(r"\]\((?!https?://|#|/)([^)]+)\)", lambda m: f"](docs/{m.group(1)})", text)
            parts.append(_demote(text) if text.startswith("# ") else text)
    return _between(readme, "sections", "\n\n".join(parts))


def main() -> int:
    path = ROOT / "README.md"
    current = path.read_text()
    fresh = render(current)
    if "--check" in sys.argv:
        if fresh != current:
            print("README.md is stale: run `python scripts/sync-readme.py`", file=sys.stderr)
            return 1
        return 0
    path.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
