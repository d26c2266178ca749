"""``overfit-gate init``: write a working gate set-up for this repository (two workflows and a
``[tool.overfit-gate]`` table) and print what to do next. Never overwrites without ``--force``;
``--dry-run`` prints the files instead of writing them."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from gate.errors import EXIT_PASS, UsageError
from gate.init.detect import Entry, Project, scan
from gate.init.render import config_table as render_table
from gate.init.render import gate_workflow, publish_workflow
from gate.init.write import Planned, apply, plan_file, plan_table


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--path", default=".", help="the repository root (default: the current folder)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--entrypoint", default=None, help="task mode entry point instead of the detected one")
    what.add_argument("--command", default=None, help="training command instead of the detected one")
    parser.add_argument("--force", action="store_true", help="overwrite existing files and replace an existing table")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written; write nothing")


def _with_override(project: Project, args: argparse.Namespace) -> Project:
    if args.entrypoint:
        path, _, func = args.entrypoint.rpartition(":")
        return replace(project, entry=Entry(path, "task", function=func))
    if args.command:
        return replace(project, entry=Entry("", "plain", command=args.command))
    return project


def plan(project: Project, force: bool) -> list[Planned]:
    if project.entry is None:
        raise UsageError(
            f"found no training entry point in {project.root}: no make_task() function, no script that calls "
            ".backward(), Trainer.fit() or Trainer.train()",
            hint="overfit-gate init --command 'python train.py --config tiny.yaml'   or   --entrypoint train/overfit.py:make_task",
        )
    wf = project.root / ".github" / "workflows"
    return [
        plan_file(wf / "overfit-gate.yml", gate_workflow(project), force),
        plan_file(wf / "overfit-gate-publish.yml", publish_workflow(), force),
        plan_table(project.root / "pyproject.toml", render_table(project), force),
    ]


def next_steps(project: Project) -> str:
    assert project.entry is not None
    where = (
        f"self-hosted runner labels {project.gpu_labels}"
        if project.gpu_labels
        else "GitHub's ubuntu-latest runner (CPU; add a GPU runner's labels to runs-on for GPU)"
    )
    image = (
        f"the training image built from {project.dockerfile}"
        if project.dockerfile
        else "a fresh Python with your dependencies"
    )
    lines = [
        f"detected: {next(iter(project.entry.config.items()))[1]} ({project.entry.framework}); runs on {where}, in {image}",
        "",
        "next steps:",
        "  1. Run it once locally: overfit-gate run   (reads [tool.overfit-gate]; exit 0 pass, 1 fail, 2 config, 3 error, 4 not applicable)",
        "  2. Commit the files and open a pull request: the `overfit-gate` workflow runs on it.",
        "  3. Make `overfit-gate` a required status check: Settings -> Rules (or Branches) -> require status checks.",
        "  4. Permissions are set in the workflows themselves: the gate job reads only (contents: read); the publish",
        "     job has checks: write, pull-requests: write, actions: read. No secrets: both use the workflow's GITHUB_TOKEN.",
        "  5. The push trigger names `main`: change it if your default branch has another name.",
    ]
    if project.gpu_labels:
        lines.append(
            "  6. Self-hosted GPU runners run fork code: require approval for outside contributors and use ephemeral runners."
        )
    return "\n".join(lines)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder")
    project = _with_override(scan(root), args)
    planned = plan(project, args.force)
    for p in planned:
        rel = p.path.relative_to(root)
        if args.dry_run:
            print(f"--- would {p.action} {rel}\n{p.text}")
        else:
            print(f"{p.action} {rel}")
    if not args.dry_run:
        apply(planned)
    print(next_steps(project))
    return EXIT_PASS
