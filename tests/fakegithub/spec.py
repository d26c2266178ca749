"""GitHub's OpenAPI description (tests/data/github/openapi-subset.json, vendored) turned into a router and
validators: which operation a request is, and whether GitHub would accept its parameters/body."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

# Vendored from GitHub's SDK maintainers (octokit, MIT): see tests/data/github/README.md and its licences.
GITHUB_DATA = Path(__file__).resolve().parents[1] / "data" / "github"
SPEC_FILE = GITHUB_DATA / "openapi-subset.json"
EVENTS = GITHUB_DATA / "events"


def to_jsonschema(schema: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema draft 4: ``nullable: true`` becomes a null type/enum member."""
    if isinstance(schema, list):
        return [to_jsonschema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: to_jsonschema(v) for k, v in schema.items() if k not in ("example", "examples", "nullable")}
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass
class Operation:
    method: str
    template: str
    op_id: str
    regex: re.Pattern[str]
    path_params: dict[str, dict[str, Any]]
    query_params: dict[str, dict[str, Any]]
    body: Draft4Validator | None
    responses: dict[int, Draft4Validator] = field(default_factory=dict)
    examples: dict[int, Any] = field(default_factory=dict)

    def example(self, status: int) -> Any:
        return copy.deepcopy(self.examples.get(status))


def _regex(template: str, params: dict[str, dict[str, Any]]) -> re.Pattern[str]:
    def group(m: re.Match[str]) -> str:
        name = m.group(1)
        # `ref` may contain slashes (heads/main): the description marks it x-multi-segment.
        return f"(?P<{name}>.+)" if params.get(name, {}).get("x-multi-segment") else f"(?P<{name}>[^/]+)"

    return re.compile("^" + re.sub(r"\{(\w+)\}", group, template) + "$")


def load(path: Path = SPEC_FILE) -> list[Operation]:
    spec = json.loads(path.read_text())
    ops: list[Operation] = []
    for template, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            params = [*item.get("parameters", []), *op.get("parameters", [])]
            path_params = {p["name"]: p for p in params if p["in"] == "path"}
            query_params = {p["name"]: p for p in params if p["in"] == "query"}
            body_schema = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
            operation = Operation(
                method=method.upper(),
                template=template,
                op_id=op["operationId"],
                regex=_regex(template, path_params),
                path_params=path_params,
                query_params=query_params,
                body=Draft4Validator(to_jsonschema(body_schema)) if body_schema else None,
            )
            for code, resp in op["responses"].items():
                content = (resp.get("content") or {}).get("application/json") or {}
                if "schema" in content:
                    operation.responses[int(code)] = Draft4Validator(to_jsonschema(content["schema"]))
                examples = content.get("examples") or {}
                if examples:
                    # Prefer the in-progress shape for check runs: our objects start there.
                    key = next((k for k in examples if "in-progress" in k), next(iter(examples)))
                    operation.examples[int(code)] = examples[key]["value"]
            ops.append(operation)
    return ops


def check_param(param: dict[str, Any], raw: str) -> str | None:
    """Why GitHub would reject this parameter value, or None."""
    schema = param.get("schema", {})
    value: Any = raw
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?\d+", raw):
            return f"{param['name']} must be an integer, got {raw!r}"
        value = int(raw)
    if "enum" in schema and value not in schema["enum"]:
        return f"{param['name']} must be one of {schema['enum']}, got {raw!r}"
    return None


def body_errors(validator: Draft4Validator, body: Any) -> list[str]:
    """GitHub-style wording: For 'properties/conclusion', "bogus" is not a member of enum."""
    out = []
    for err in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        where = "/".join(f"properties/{p}" if isinstance(p, str) else f"items/{p}" for p in err.path) or "root"
        detail = f"{json.dumps(err.instance)} is not a member of enum" if err.validator == "enum" else err.message
        out.append(f"For '{where}', {detail}.")
    return out
