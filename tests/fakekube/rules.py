"""What the API server checks beyond the schema: authorization (RBAC rules of a Role) and
the semantic validation of a Job (the 422 Invalid answers), for the fields the gate sets."""

from __future__ import annotations

import re
from typing import Any

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)?")


def allowed(rules: list[dict[str, Any]] | None, group: str, resource: str, verb: str) -> tuple[bool, int | None]:
    """(allowed, index of the rule that allowed it) for a Role's rules; None allows everything."""
    if rules is None:
        return True, None
    for i, rule in enumerate(rules):
        if (
            group in rule.get("apiGroups", [])
            and resource in rule.get("resources", [])
            and verb in rule.get("verbs", [])
        ):
            return True, i
    return False, None


def _labels(where: str, labels: dict[str, str], problems: list[str]) -> None:
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if (
            (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix)))
            or len(name) > 63
            or not LABEL_NAME.fullmatch(name)
        ):
            problems.append(
                f"{where}.labels: Invalid value: {key!r}: name part must consist of alphanumeric characters, '-', '_' or '.'"
            )
        if len(value) > 63 or not LABEL_VALUE.fullmatch(value):
            problems.append(
                f"{where}.labels: Invalid value: {value!r}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (at most 63)"
            )


def job_problems(job: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    meta, spec = job.get("metadata") or {}, job.get("spec") or {}
    name = meta.get("name") or ""
    if not name or len(name) > 63 or not DNS_LABEL.fullmatch(name):
        problems.append(f"metadata.name: Invalid value: {name!r}: a lowercase RFC 1123 label (at most 63 characters)")
    _labels("metadata", meta.get("labels") or {}, problems)
    if spec.get("selector") and not spec.get("manualSelector"):
        problems.append("spec.selector: Invalid value: `selector` will be auto-generated")
    template = spec.get("template") or {}
    _labels("spec.template.metadata", (template.get("metadata") or {}).get("labels") or {}, problems)
    pod = template.get("spec") or {}
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append('spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"')
    volumes = {v["name"] for v in pod.get("volumes", [])}
    containers = pod.get("containers") or []
    if not containers:
        problems.append("spec.template.spec.containers: Required value")
    for i, c in enumerate(containers):
        where = f"spec.template.spec.containers[{i}]"
        if not DNS_LABEL.fullmatch(c.get("name", "")):
            problems.append(f"{where}.name: Invalid value: {c.get('name')!r}")
        if not c.get("image"):
            problems.append(f"{where}.image: Required value")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                problems.append(f"{where}.volumeMounts.name: Not found: {m['name']!r}")
            if not m["mountPath"].startswith("/"):
                problems.append(f"{where}.volumeMounts.mountPath: Invalid value: must be absolute")
        res = c.get("resources") or {}
        for kind in ("limits", "requests"):
            for rname, qty in (res.get(kind) or {}).items():
                if not QUANTITY.fullmatch(str(qty)):
                    problems.append(
                        f"{where}.resources.{kind}[{rname}]: Invalid value: {qty!r}: quantities must match the regular expression"
                    )
                if "/" in rname and not str(qty).isdigit():
                    problems.append(f"{where}.resources.{kind}[{rname}]: Invalid value: {qty!r}: must be an integer")
        for rname, qty in (res.get("requests") or {}).items():
            if "/" in rname and (res.get("limits") or {}).get(rname) != qty:
                problems.append(f"{where}.resources.requests[{rname}]: Invalid value: must be equal to {rname} limit")
    return problems
