"""``overfit-gate run``: resolve config, start the harness through a runner, collect and
validate the result, render reports, publish, exit with the verdict's code."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.collect import collect
from gate.commands.flags import add_config_flags, config_overrides
from gate.config import Config, out_setting, resolve_with_changes
from gate.errors import EXIT_USAGE, VERDICT_EXIT, EntrypointError, RunnerError, UsageError
from gate.harness.contract import USAGE_ERRORS
from gate.harness.spec import Spec
from gate.report.actions import TrainingLog, one_line
from gate.result import ErrorInfo, Result
from gate.runners import Job, Outcome, get_runner
from gate.workspace import confine

if TYPE_CHECKING:
    from gate.github.publish import Publisher


# Files a previous run may have left in --out; removed first so a stale verdict is never read.
STALE = ("result.json", "loss.csv", "loss.png", "report.md", "junit.xml", "spec.json")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = "overfit-gate run [options] (--entrypoint FILE.py:FUNC | -- python train.py ...)"
    parser.add_argument(
        "--config-file", default=None, help="TOML file with the config (default: ./pyproject.toml [tool.overfit-gate])"
    )
    parser.add_argument(
        "--github-token", default=None, help="token for publishing (default: $GITHUB_TOKEN); never printed"
    )
    add_config_flags(parser)


def load_config(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Config, Path, list[str]]:
    """The config, the working directory, and what a pull request changes in the gate's config
    (on pull requests the verdict keys come from the base commit: gate/baseconfig.py)."""
    from gate.baseconfig import reader

    cli = config_overrides(args)
    if getattr(args, "trailing", None):
        cli["command"] = args.trailing
    base = reader(env, args.github_token)
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
        # Values come from the checkout too (the entry point, the command): one line each.
        print(f"  {k.replace('_', '-'):<18} {one_line(v if isinstance(v, str) else json.dumps(v))}", flush=True)


def _clear(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in STALE:
        (out_dir / name).unlink(missing_ok=True)


def _fallback_folder(args: argparse.Namespace, env: Mapping[str, str]) -> Path | None:
    """Where a config error's report goes: the requested folder if it is a safe one, else the
    default; None when neither is (nothing is written through a planted symlink)."""
    for out in (out_setting(getattr(args, "out", None), env), str(Config.model_fields["out"].default)):
        try:
            return confine(out, env)
        except UsageError:
            continue
    return None


def _record_usage_error(
    exc: UsageError, out_dir: Path | None, env: Mapping[str, str], cfg: Config | None = None
) -> None:
    """A usage error still leaves a report behind (an `error` result), so a CI step that
    uploads the folder or reads the outputs sees why nothing ran."""
    if out_dir is None:
        return
    _clear(out_dir)
    result = Result(
        verdict="error",
        reason=exc.message,
        error=ErrorInfo(type=type(exc).__name__, message=str(exc)),
        gate_version=__version__,
        name=cfg.name if cfg else Config.model_fields["name"].default,
        mode=cfg.mode if cfg else "task",
        entrypoint=cfg.entrypoint if cfg else None,
        config=cfg.model_dump(mode="json") if cfg else {},
    )
    from gate.report import write_reports

    result.write(out_dir)
    write_reports(result, out_dir)


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


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        cfg, workdir, changes = load_config(args, env)
        out_dir = confine(cfg.out, env)
    except UsageError as exc:
        _record_usage_error(exc, _fallback_folder(args, env), env)
        raise
    try:
        _check_entrypoint(cfg, workdir)
    except UsageError as exc:
        _record_usage_error(exc, out_dir, env, cfg)
        raise
    _clear(out_dir)
    print_config(cfg)
    pub = None
    if cfg.publish or env.get("GITHUB_ACTIONS") == "true" or args.github_token:
        # Lazily: outside Actions, without a token and without --publish there is nothing to
        # publish or to record for a later `publish`, and the client is not worth importing.
        from gate.github.publish import for_run

        pub = for_run(args.github_token, cfg.publish, cfg.name, env, out_dir)  # check run in_progress

    base: dict[str, Any] = {
        "mode": cfg.mode,
        "name": cfg.name,
        "entrypoint": cfg.entrypoint,
        "command": cfg.command,
        "seed": cfg.seed,
        "config": cfg.model_dump(mode="json"),
        "config_changes": changes,
    }
    if changes:
        print(f"overfit-gate: this pull request changes the gate's config ({cfg.config_source} applies):", flush=True)
        for line in changes:
            print(f"  {one_line(line)}", flush=True)
    from gate.baseline.ci import for_run as baseline_for_run

    # Read the base side (event, folder path) now, and fetch it while the pipeline trains.
    baseline = baseline_for_run(cfg, env, args.github_token)
    job = Job(spec=build_spec(cfg, out_dir), out_dir=out_dir, workdir=workdir, timeout=cfg.timeout, config=cfg, env=env)
    runner = get_runner(cfg.runner)
    started = time.perf_counter()
    _prewarm_reports()
    try:
        # The log is the untrusted code's own output: workflow commands in it are stopped.
        with TrainingLog(env) as log:
            outcome = runner.run(job, log=log)
    except (RunnerError, UsageError) as exc:
        # The runner could not start (no daemon, image missing, no GPU), or found the config
        # unusable for it (no image, a `gpus` it cannot honour): still a result with the hint,
        # so the report, outputs and check run say why; finish() exits 2 for a usage error.
        print(f"overfit-gate: error: {exc}", file=sys.stderr, flush=True)
        outcome = Outcome(exit_code=None, error=str(exc), error_type=type(exc).__name__)
    except BaseException as exc:
        if pub is not None:
            pub.abort(exc)  # never leave the check run spinning in_progress
        raise
    result = collect(outcome, out_dir, base, cfg.timeout)
    if not result.duration_s:
        result.duration_s = round(time.perf_counter() - started, 3)
    result = baseline.apply(result)  # compare with the base run; never raises
    return finish(result, out_dir, env, publisher=pub)


def finish(result: Result, out_dir: Path, env: Mapping[str, str], publisher: Publisher | None = None) -> int:
    """Write result.json and the reports, print the summary; the exit code of the verdict."""
    from gate.report import write_reports
    from gate.report.actions import emit
    from gate.report.terminal import summary

    result.write(out_dir)
    write_reports(result, out_dir)
    print(summary(result, out_dir), flush=True)
    emit(result, out_dir, env)  # Actions job summary, outputs, annotations (no-op elsewhere)
    if publisher is not None:  # check run + PR comment; never changes the exit code
        publisher.finish_safely(result, out_dir)
    if result.error is not None and result.error.type in USAGE_ERRORS:
        return EXIT_USAGE
    return VERDICT_EXIT[result.verdict]


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `overfit-gate run`")
