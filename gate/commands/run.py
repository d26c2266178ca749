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
from gate.config import Config, report_folder, resolve
from gate.errors import EXIT_USAGE, VERDICT_EXIT, EntrypointError, RunnerError, UsageError
from gate.harness.spec import Spec
from gate.result import ErrorInfo, Result
from gate.runners import Job, Outcome, get_runner

if TYPE_CHECKING:
    from gate.github.publish import Publisher

# error.type values that mean "the user's input was wrong" (exit 2), not "the pipeline broke".
USAGE_ERRORS = ("EntrypointError", "ConfigError", "UsageError")

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


def load_config(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Config, Path]:
    cli = config_overrides(args)
    if getattr(args, "trailing", None):
        cli["command"] = args.trailing
    cfg = resolve(cli, env, Path.cwd(), args.config_file)
    workdir = cfg.workdir(Path.cwd())
    if not workdir.is_dir():
        raise UsageError(f"working directory {workdir} does not exist")
    return cfg, workdir


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


def _clear(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in STALE:
        (out_dir / name).unlink(missing_ok=True)


def _record_usage_error(exc: UsageError, out_dir: Path, env: Mapping[str, str], cfg: Config | None = None) -> None:
    """A usage error still leaves a report behind (an `error` result), so a CI step that
    uploads the folder or reads the outputs sees why nothing ran."""
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
        cfg, workdir = load_config(args, env)
    except UsageError as exc:
        _record_usage_error(exc, report_folder(getattr(args, "out", None), env), env)
        raise
    out_dir = (Path.cwd() / cfg.out).resolve()
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
    }
    from gate.baseline.ci import for_run as baseline_for_run

    # Read the base side (event, folder path) now, and fetch it while the pipeline trains.
    baseline = baseline_for_run(cfg, env, args.github_token)
    job = Job(spec=build_spec(cfg, out_dir), out_dir=out_dir, workdir=workdir, timeout=cfg.timeout, config=cfg, env=env)
    runner = get_runner(cfg.runner)
    started = time.perf_counter()
    _prewarm_reports()
    grouped = env.get("GITHUB_ACTIONS") == "true"  # fold the long training log in the Actions UI
    if grouped:
        print("::group::training log", flush=True)
    try:
        outcome = runner.run(job, log=lambda line: print(line, flush=True))
    except RunnerError as exc:
        # The runner could not start (no daemon, image missing, no GPU): still an error
        # result with the hint, so the report, outputs and check run say why.
        print(f"overfit-gate: error: {exc}", file=sys.stderr, flush=True)
        outcome = Outcome(exit_code=None, error=str(exc), error_type=type(exc).__name__)
    except BaseException as exc:
        if pub is not None:
            pub.abort(exc)  # never leave the check run spinning in_progress
        raise
    finally:
        if grouped:
            print("::endgroup::", flush=True)
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
