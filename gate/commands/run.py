"""``overfit-gate run``: resolve config, start the harness through a runner, collect and
validate the result, render reports, publish, exit with the verdict's code."""

from __future__ import annotations

import argparse
import json
import secrets
import shlex
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gate import __version__
from gate.collect import collect
from gate.commands.flags import add_config_flags, add_token_flags, config_overrides, token_from_args
from gate.config import Config, out_setting, resolve_with_changes
from gate.ending import Ending
from gate.errors import EntrypointError, RunnerError, UsageError
from gate.github.env import secret_values
from gate.harness.spec import Spec
from gate.report.actions import TrainingLog, one_line
from gate.result import Result
from gate.runners import Job, Outcome, get_runner
from gate.scrub import text as scrub_text
from gate.workspace import confine

# Files a previous run may have left in --out; removed first so a stale verdict is never read.
STALE = ("result.json", "loss.csv", "loss.png", "report.md", "junit.xml", "spec.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "overfit-gate run [options] (--entrypoint FILE.py:FUNC | -- python train.py ...)"
    parser.add_argument(
        "--config-file", default=None, help="TOML file with the config (default: ./pyproject.toml [tool.overfit-gate])"
    )
    add_token_flags(parser)
    add_config_flags(parser)


def load_config(
    args: argparse.Namespace, env: Mapping[str, str], token: str | None = None
) -> tuple[Config, Path, list[str]]:
    """The config, the working directory, and what a pull request changes in the gate's config
    (on pull requests the verdict keys come from the base commit: gate/baseconfig.py)."""
    from gate.baseconfig import reader

    cli = config_overrides(args)
    if getattr(args, "trailing", None):
        cli["command"] = args.trailing
    base = reader(env, token)
    cfg, changes = resolve_with_changes(cli, env, Path.cwd(), args.config_file, base)
    workdir = cfg.workdir(Path.cwd())
    if not workdir.is_dir():
        raise UsageError(f"working directory {workdir} does not exist")
    return cfg, workdir, changes


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


def build_spec(cfg: Config, out_dir: Path, nonce: str = "") -> dict[str, Any]:
    data = cfg.model_dump()
    spec = {k: data[k] for k in Spec.__dataclass_fields__ if k in data and k not in ("mode", "out", "command")}
    spec.update(mode=cfg.mode, out=str(out_dir), command=list(cfg.command or []), nonce=nonce)
    return Spec.from_dict(spec).to_dict()


def print_config(cfg: Config) -> None:
    shown = {k: v for k, v in cfg.model_dump(mode="json").items() if v not in (None, [], "")}
    if cfg.command:
        shown["command"] = shlex.join(cfg.command)
    print(f"overfit-gate {__version__}: resolved config", flush=True)
    for k, v in shown.items():
        # Values come from the checkout too (the entry point, the command): one line each.
        print(f"  {k.replace('_', '-'):<18} {one_line(v if isinstance(v, str) else json.dumps(v))}", flush=True)


def _clear(out_dir: Path) -> None:
    from gate import outdir

    outdir.ensure_dir(out_dir)
    for name in STALE:
        outdir.remove(out_dir / name)


def _fallback_folder(args: argparse.Namespace, env: Mapping[str, str]) -> Path | None:
    """Where a config error's report goes: the requested folder if it is a safe one, else the
    default; None when neither is (nothing is written through a planted symlink)."""
    for out in (out_setting(getattr(args, "out", None), env), str(Config.model_fields["out"].default)):
        try:
            return confine(out, env)
        except UsageError:
            continue
    return None


def _prewarm_reports() -> None:
    """Import the report renderer (matplotlib, ~0.5 s) in the background while the harness
    trains: the controller is idle until the result arrives, so the report then costs only
    the drawing. Best effort; `write_reports` imports whatever is still missing."""

    def _import() -> None:
        try:
            import gate.report.markdown  # noqa: F401
            from gate.report.plot import load_pyplot

            load_pyplot()
        except Exception:  # a broken matplotlib is reported when the PNG is drawn
            pass

    threading.Thread(target=_import, name="overfit-gate-prewarm", daemon=True).start()


def _announce(result: Result, out_dir: Path) -> str:
    from gate.report.terminal import summary

    return summary(result, out_dir)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    token = token_from_args(args)
    ending = Ending(
        env=env,
        out_dir=_fallback_folder(args, env),
        secrets=secret_values(env, token),
        announce=_announce,
        clear=_clear,
    )
    return ending.guard(lambda: _run(args, env, token, ending))


def _run(args: argparse.Namespace, env: Mapping[str, str], token: str | None, ending: Ending) -> int:
    cfg, workdir, changes = load_config(args, env, token)
    out_dir = ending.out_dir = confine(cfg.out, env)
    ending.base = {
        "mode": cfg.mode,
        "name": cfg.name,
        "entrypoint": cfg.entrypoint,
        "command": cfg.command,
        "seed": cfg.seed,
        "config": cfg.model_dump(mode="json"),
        "config_changes": changes,
    }
    _check_entrypoint(cfg, workdir)
    if cfg.publish or env.get("GITHUB_ACTIONS") == "true" or token:
        # Lazily: outside Actions, without a token and without --publish there is nothing to
        # publish or to record for a later `publish`, and the client is not worth importing.
        # Before the folder is touched: if it cannot be written, the check run still says so.
        from gate.github.publish import for_run

        ending.publisher = for_run(token, cfg.publish, cfg.name, env, out_dir)  # check run in_progress
    _clear(out_dir)
    print_config(cfg)
    if changes:
        print(f"overfit-gate: this pull request changes the gate's config ({cfg.config_source} applies):", flush=True)
        for line in changes:
            print(f"  {one_line(line)}", flush=True)
    from gate.baseline.ci import for_run as baseline_for_run

    # Read the base side (event, folder path) now, and fetch it while the pipeline trains.
    baseline = baseline_for_run(cfg, env, token)
    nonce = secrets.token_hex(16)
    spec = build_spec(cfg, out_dir, nonce)
    job = Job(spec=spec, out_dir=out_dir, workdir=workdir, timeout=cfg.timeout, config=cfg, env=env)
    runner = get_runner(cfg.runner)
    started = time.perf_counter()
    _prewarm_reports()
    try:
        # The log is the untrusted code's own output: workflow commands in it are stopped, and a
        # credential value it prints is masked.
        with TrainingLog(env) as log:
            outcome = runner.run(job, log=lambda line: log(scrub_text(line, ending.secrets)))
    except (RunnerError, UsageError) as exc:
        # The runner could not start (no daemon, image missing, no GPU), or found the config
        # unusable for it (no image, a `gpus` it cannot honour): still a result with the hint,
        # so the report, outputs and check run say why; the ending exits 2 for a usage error.
        print(f"overfit-gate: error: {exc}", file=sys.stderr, flush=True)
        outcome = Outcome(exit_code=None, error=str(exc), error_type=type(exc).__name__)
    result = collect(outcome, out_dir, ending.base, cfg.timeout, nonce=nonce)
    if not result.duration_s:
        result.duration_s = round(time.perf_counter() - started, 3)
    result = baseline.apply(result)  # compare with the base run; never raises
    return ending.finish(result)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `overfit-gate run`")
