"""The files ``overfit-gate init`` writes, as text: the gate workflow (untrusted: runs the PR's
code with a read-only token and uploads the report), the publish workflow (trusted: runs the
default branch's copy on ``workflow_run``, never checks out PR code, posts the check run and
comment), and the ``[tool.overfit-gate]`` table.

One pattern for every event, fork PRs included: the job that runs the PR's code never holds a
write token, so there is nothing for a fork to steal, and the publish job treats the report
folder as data. Runner keys (runner, image, dockerfile, gpus) live in the workflow, where the PR
cannot change them; only the what-to-run keys go into pyproject.toml.
"""

from __future__ import annotations

import json

from gate import __version__
from gate.init.detect import Project

ACTION = "overfit-gate/overfit-gate"
# Third-party actions pinned to full commit SHAs (a tag can be moved; a SHA cannot).
CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2"
SETUP_PYTHON = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065  # v5.6.0"
UPLOAD = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02  # v4.6.2"
DOWNLOAD = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093  # v4.3.0"
ARTIFACT = "overfit-gate-report"


def _yaml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar


def _runs_on(project: Project) -> str:
    if project.gpu_labels:
        return "[" + ", ".join(project.gpu_labels) + "]"
    return "ubuntu-latest"


def _gate_steps(project: Project) -> str:
    if project.dockerfile:
        # The container action: the training runs in the repo's own image, one GPU, no network.
        gpus = "1" if project.gpu_labels else "0"
        return f"""      - id: gate
        uses: {ACTION}@v{__version__}
        with:
          runner: docker
          dockerfile: {project.dockerfile}
          image: overfit-gate-train:${{{{ github.sha }}}}
          gpus: "{gpus}"
          publish: "false"
"""
    install = f"pip install {project.requirements}" if project.requirements else "pip install torch"
    return f"""      - uses: {SETUP_PYTHON}
        with:
          python-version: "3.11"
      - name: Install the project and the gate
        run: |
          python -m pip install --upgrade pip
          {install}
          pip install "overfit-gate=={__version__}"
      - id: gate
        name: overfit-gate
        run: overfit-gate run --no-publish
"""


def gate_workflow(project: Project) -> str:
    report = "${{ steps.gate.outputs.report-dir || 'overfit-gate-report' }}"
    return f"""# Written by `overfit-gate init`. The untrusted half: runs this PR's training code in overfit
# mode with a read-only token and no secrets, publishes nothing, uploads the report folder.
# overfit-gate-publish.yml (the trusted half) posts the check run and the PR comment.
name: overfit-gate
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
concurrency:
  group: overfit-gate-${{{{ github.ref }}}}
  cancel-in-progress: true
jobs:
  gate:
    runs-on: {_runs_on(project)}
    timeout-minutes: 30
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
          fetch-depth: 0   # the base commit's config decides the verdict keys (docs/security.md)
{_gate_steps(project)}      - uses: {UPLOAD}
        if: always()
        with:
          name: {ARTIFACT}
          path: {report}
"""


def publish_workflow() -> str:
    return f"""# Written by `overfit-gate init`. The trusted half: runs the default branch's copy of this file
# after the `overfit-gate` workflow, never checks out or runs PR code, and treats the report
# folder as data. Never replace this with pull_request_target plus a checkout of the PR.
name: overfit-gate publish
on:
  workflow_run:
    workflows: [overfit-gate]
    types: [completed]
permissions:
  actions: read         # download the other run's artifact
  checks: write         # the check run (make `overfit-gate` a required status check)
  pull-requests: write  # the sticky PR comment
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: {DOWNLOAD}
        with:
          name: {ARTIFACT}
          path: {ARTIFACT}
          run-id: ${{{{ github.event.workflow_run.id }}}}
          github-token: ${{{{ github.token }}}}
      - uses: {ACTION}@v{__version__}
        with:
          subcommand: publish
          out: {ARTIFACT}
          require-publish: "true"   # a missing permission fails loudly instead of posting nothing
"""


def config_table(project: Project) -> str:
    assert project.entry is not None
    lines = ["[tool.overfit-gate]", "# Written by `overfit-gate init`; every key: overfit-gate run --help"]
    for key, value in project.entry.config.items():
        lines.append(f"{key} = {_yaml_str(value)}")  # JSON strings are valid TOML basic strings
    lines.append("steps = 500")
    if project.entry.framework in ("hf", "lightning", "plain"):
        lines.append(
            "# Script mode pins the first batch; keep the command's own config small (a tiny model trains faster)."
        )
    return "\n".join(lines) + "\n"
