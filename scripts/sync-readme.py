"""Regenerate the generated parts of the docs: the config key table (from the config registry)
in README.md and docs/configuration.md, and the docs site's home page (docs/index.md) from
README.md. `--check` fails when any of them is stale; the test suite runs it so the docs never
drift from the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.config import keys_table  # noqa: E402

# Where repository files live on the web: README links that leave docs/ point here on the site.
REPO_URL = "https://github.com/overfit-gate/overfit-gate/"
INDEX_NOTE = "<!-- Generated from README.md by scripts/sync-readme.py: edit README.md instead. -->\n"


def _between(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{start}\n{body.strip()}\n{end}", text)


def _site_link(target: str) -> str:
    """A README link as the site's home page needs it: docs pages relative to docs/, other
    repository files on GitHub, anchors and absolute URLs unchanged."""
    if re.match(r"https?://|#|/", target):
        return target
    if target.startswith("docs/") and target.endswith(".md"):
        return target.removeprefix("docs/")
    return REPO_URL + ("tree/main/" if target.endswith("/") else "blob/main/") + target


def render_index(readme: str) -> str:
    body = re.sub(r"\]\(([^)]+)\)", lambda m: f"]({_site_link(m.group(1))})", readme)
    return INDEX_NOTE + body


def render() -> dict[Path, str]:
    """Every generated file and its fresh content."""
    table = keys_table()
    readme = _between((ROOT / "README.md").read_text(), "config-table", table)
    config = _between((ROOT / "docs" / "configuration.md").read_text(), "config-table", table)
    return {
        ROOT / "README.md": readme,
        ROOT / "docs" / "configuration.md": config,
        ROOT / "docs" / "index.md": render_index(readme),
    }


def main() -> int:
    stale = [path for path, text in render().items() if not path.is_file() or path.read_text() != text]
    if "--check" in sys.argv:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is stale: run `python scripts/sync-readme.py`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in render().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
