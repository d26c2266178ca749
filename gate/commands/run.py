"""``overfit-gate run``: resolve config, start the harness through a runner, collect and
validate the result, render reports, publish, exit with the verdict's code."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate import __version__
from gate.collect import collect
from gate.commands.flags import add_config_flags, config_overrides
from gate.config import Config, resolve
from gate.errors import EXIT_USAGE, VERDICT_EXIT, EntrypointError, UsageError
from gate.harness.spec import Spec
from gate.result import Result
from gate.runners import Job, get_runner

# Files a previous run may have left in --out; removed first so a stale verdict is never read.
STALE = ("result.json", "loss.csv", "loss.png", "report.md", "junit.xml", "spec.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "overfit-gate run [options] (--entrypoint FILE.py:FUNC | -- python train.py ...)"
    parser.add_argument("--config-file", default=None, help="TOML file with the config (default: ./pyproject.toml [tool.overfit-gate])")
    parser.add_argument("--github-token", default=None, help="token for publishing (default: $GITHUB_TOKEN); never printed")
    add_config_flags(parser)


def _workdir(args: argparse.Namespace, env: Mapping[str, str]) -> Path:
    wd = (
        getattr(args, "working_directory", None)
        or env.get("INPUT_WORKING-DIRECTORY")
        or env.get("OVERFIT_GATE_WORKING_DIRECTORY")
        or "."
    )
    return (Path.cwd() / wd).resolve()


def load_config(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Config, Path]:
    cli = config_overrides(args)
    if getattr(args, "trailing", None):
        cli["command"] = args.trailing
    workdir = _workdir(args, env)
    if not workdir.is_dir():
        raise UsageError(f"working directory {workdir} does not exist")
    config_file = args.config_file or env.get("INPUT_CONFIG-FILE") or env.get("OVERFIT_GATE_CONFIG_FILE") or None
    return resolve(cli, env, workdir, config_file), workdir


def _check_entrypoint(cfg: Config, workdir: Path) -> None:
    if not cfg.entrypoint and not cfg.command:
        raise UsageError(
            "nothing to run: give a task entry point or a training command",
            hint="overfit-gate run --entrypoint path/to/file.py:make_task   or   overfit-gate run -- python train.py",
        )
    if cfg.entrypoint:
        path, sep, func = cfg.entrypoint.rpartition(":")
        if not sep or not path or not func.isidentifier():
            raise EntrypointError(
                f"entry point {cfg.entrypoint!r} is not of the form path/to/file.py:function",
                hint='entrypoint = "train/overfit.py:make_task"',
            )
        if not (workdir / path).is_file():
            raise EntrypointError(
                f"entry point file {path} not found in {workdir}",
                hint="paths are relative to the working directory; set `working-directory` if the project lives in a subfolder",
            )


def build_spec(cfg: Config, out_dir: Path) -> dict[str, Any]:
    data = cfg.model_dump()
    spec = {k: data[k] for k in Spec.__dataclass_fields__ if k in data and k not in ("mode", "out", "command")}
    spec.update(mode=cfg.mode, out=str(out_dir), command=list(cfg.command or []))
    return Spec.from_dict(spec).to_dict()


def print_config(cfg: Config) -> None:
    shown = {k: v for k, v in cfg.model_dump(mode="json").items() if v not in (None, [], "")}
    if cfg.command:
        shown["command"] = shlex.join(cfg.command)
    print(f"overfit-gate {__version__}: resolved config", flush=True)
    for k, v in shown.items():
        print(f"  {k.replace('_', '-'):<18} {v if isinstance(v, str) else json.dumps(v)}", flush=True)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    cfg, workdir = load_config(args, env)
    _check_entrypoint(cfg, workdir)
    out_dir = (Path.cwd() / cfg.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in STALE:
        (out_dir / name).unlink(missing_ok=True)
    print_config(cfg)

    base: dict[str, Any] = {
        "mode": cfg.mode,
        "name": cfg.name,
        "entrypoint": cfg.entrypoint,
        "command": cfg.command,
        "seed": cfg.seed,
        "config": cfg.model_dump(mode="json"),
    }
    job = Job(spec=build_spec(cfg, out_dir), out_dir=out_dir, workdir=workdir, timeout=cfg.timeout, config=cfg, env=env)
    runner = get_runner(cfg.runner)
    started = time.perf_counter()
    outcome = runner.run(job, log=lambda line: print(line, flush=True))
    result = collect(outcome, out_dir, base, cfg.timeout)
    if not result.duration_s:
        result.duration_s = round(time.perf_counter() - started, 3)
    return finish(result, out_dir, env)


def finish(result: Result, out_dir: Path, env: Mapping[str, str]) -> int:
    """Write result.json and the reports, print the summary; the exit code of the verdict."""
    from gate.report import write_reports
    from gate.report.terminal import summary

    result.write(out_dir)
    write_reports(result, out_dir, env)
    print(summary(result, out_dir), flush=True)
    if result.error is not None and result.error.type == "EntrypointError":
        return EXIT_USAGE
    return VERDICT_EXIT[result.verdict]


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `overfit-gate run`")
