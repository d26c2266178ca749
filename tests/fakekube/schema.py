"""Kubernetes' own object definitions (tests/data/kubernetes/schemas.json, vendored) as
validators: the fake API server checks every body it receives and every object it sends."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "kubernetes" / "schemas.json"
JOB = "io.k8s.api.batch.v1.Job"
POD = "io.k8s.api.core.v1.Pod"
POD_LIST = "io.k8s.api.core.v1.PodList"
EVENT_LIST = "io.k8s.api.core.v1.EventList"
DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
STATUS = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
WATCH_EVENT = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"


@functools.lru_cache(maxsize=1)
def _defs() -> dict[str, Any]:
    return dict(json.loads(SCHEMAS.read_text())["$defs"])


@functools.cache
def validator(name: str) -> Draft7Validator:
    return Draft7Validator({"$ref": f"#/$defs/{name}", "$defs": _defs()})


def errors(name: str, body: Any) -> list[str]:
    """Every schema violation, as `path: message` (empty: valid)."""
    found = sorted(validator(name).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in found]
