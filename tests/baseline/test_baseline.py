"""The base-branch comparison's parts, without training: the summary's text form, like with
like, the thresholds, the policy, and how it is shown (gate/baseline/)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from gate.baseline.attach import apply, from_folder, restore, skipped
from gate.baseline.compare import MIN_EXTRA_STEPS, compare, differences
from gate.baseline.model import MAX_CURVE, BaselineBlock, Policy
from gate.baseline.render import chart_pair, markdown, overlay, terminal
from gate.baseline.summary import SummaryError, curve_points, decode, encode, from_result
from gate.cli import main as cli
from gate.report.markdown import render_markdown
from gate.result import Result, load_result

POLICY = Policy()


def run_result(target_step: int | None = 36, *, first: float = 1.6, steps: int | None = None, **extra: Any) -> Result:
    """A passing run whose loss halves every ``target_step / 7`` steps (target 1% of first)."""
    n = steps if steps is not None else (target_step or 480) + 20
    rate = math.log(100) / max(target_step or 10**6, 1)
    losses = [first * math.exp(-rate * i) * 0.999 for i in range(n)]
    data: dict[str, Any] = {
        "verdict": "pass" if target_step is not None else "fail",
        "reason": "the loss reached the target" if target_step is not None else "the loss did not reach the target",
        "steps": n,
        "initial_loss": losses[0],
        "final_loss": losses[-1],
        "best_loss": min(losses),
        "losses": losses,
        "target": first * 0.01,
        "floor": 0.0,
        "target_step": target_step,
        "device": "cpu",
        "torch_version": "2.13.0+cpu",
        "seed": 0,
        "config": {"steps": 500, "target_ratio": 0.01, "target_loss": None, "loss_floor": None},
        "checks": [
            {"name": "finite", "status": "pass", "message": "ok"},
            {"name": "gradient_flow", "status": "pass", "message": "ok"},
        ],
    }
    data.update(extra)
    return Result.model_validate(data)


def summary_of(result: Result) -> Any:
    return from_result(result, "push")


# ---- the summary's text form ---------------------------------------------------------------


def test_summary_round_trips_through_the_check_run_text_and_stays_small() -> None:
    res = run_result(36, steps=5000)
    text = encode(from_result(res, "push"))
    back = decode(f"some other text\n{text}\ntrailing")
    assert back.target_step == 36 and back.event == "push" and back.fingerprint.seed == 0
    assert back.checks == {"finite": "pass", "gradient_flow": "pass"}
    assert back.curve.n == 5000 and len(back.curve.values) == MAX_CURVE
    points = curve_points(back.curve)
    assert points[0][0] == 0 and points[-1][0] == 4999  # the first and last steps are kept
    assert len(text) < 8000


def test_a_crafted_name_cannot_close_the_html_comment() -> None:
    res = run_result(36, name="x --> <script>")
    text = encode(from_result(res))
    assert text.count("-->") == 1 and "<script>" not in text
    assert decode(text).fingerprint.name == "x --> <script>"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (None, "carries no overfit-gate summary"),
        ("a check run of an older gate", "carries no overfit-gate summary"),
        ("<!-- overfit-gate-summary v9\n{}\n-->", "version 9, newer than this gate reads"),
        ("<!-- overfit-gate-summary v1\n{not json\n-->", "unreadable"),
        ('<!-- overfit-gate-summary v1\n{"steps": 3}\n-->', "unreadable"),
    ],
)
def test_unusable_summaries_say_why(text: str | None, why: str) -> None:
    with pytest.raises(SummaryError, match=why):
        decode(text)


# ---- like with like -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"seed": 1}, "seed 1 here vs 0 on main"),
        ({"config": {"steps": 300, "target_ratio": 0.01}}, "step budget 300 here vs 500 on main"),
        ({"config": {"steps": 500, "target_ratio": 0.05}}, "target ratio 0.05 here vs ratio 0.01 on main"),
        ({"config": {"steps": 500, "target_loss": 0.1}}, "target loss 0.1 here vs ratio 0.01 on main"),
        ({"torch_version": "2.14.0+cpu"}, "torch 2.14.0+cpu here vs 2.13.0+cpu on main"),
        ({"device": "cuda:0"}, "device cuda here vs cpu on main"),
        ({"name": "gate-b"}, "gate name gate-b here vs overfit-gate on main"),
        ({"verdict": "error"}, "this run has no comparable outcome (verdict 'error')"),
        ({"verdict": "not_applicable"}, "this run has no comparable outcome (verdict 'not_applicable')"),
    ],
)
def test_only_like_is_compared_with_like(change: dict[str, Any], said: str) -> None:
    base = summary_of(run_result(36))
    head = summary_of(run_result(36)).model_copy(update={})
    raw = run_result(36).model_dump(by_alias=True)
    raw.update(change)
    if change.get("verdict") == "not_applicable":  # a verdict this version does not know (programs helper)
        head = head.model_copy(update={"verdict": "not_applicable"})
    else:
        head = summary_of(Result.model_validate(raw))
    out = compare(head, base, POLICY, "main")
    assert out.status == "not_comparable" and out.findings == []
    assert out.message.startswith("baseline not comparable: ") and said in out.message, out.message


def test_same_device_type_is_comparable_and_a_failed_base_is_not() -> None:
    base = summary_of(run_result(36, device="cuda:1"))
    head = summary_of(run_result(36, device="cuda:0"))
    assert differences(head, base) == []
    failed = summary_of(run_result(None))
    assert "the base run's run did not pass" in differences(head, failed)[0]


# ---- thresholds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "head", "status"),
    [
        (36, 36, "no_change"),
        (36, 72, "no_change"),  # exactly 2.0x is not more than the factor
        (36, 74, "regression"),
        (36, 148, "regression"),
        (36, 10, "no_change"),  # faster is never a regression
        (4, 12, "no_change"),  # 3x, but only 8 steps more: within MIN_EXTRA_STEPS
        (4, 4 + MIN_EXTRA_STEPS, "regression"),
    ],
)
def test_steps_to_target_threshold(base: int, head: int, status: str) -> None:
    out = compare(summary_of(run_result(head)), summary_of(run_result(base)), POLICY, "main")
    assert out.status == status, out.message


def test_the_sentence_carries_both_numbers() -> None:
    out = compare(summary_of(run_result(148)), summary_of(run_result(36)), POLICY, "main")
    assert out.message == "regression against main: reaches the target in 148 steps, 4.1× main's 36"
    assert [(f.kind, f.head, f.base) for f in out.findings] == [("steps", 148, 36)]
    same = compare(summary_of(run_result(38)), summary_of(run_result(36)), POLICY, "main")
    assert same.message == "no change against main: reaches the target in 38 steps, 1.1× main's 36"


def test_the_factor_is_tunable() -> None:
    head, base = summary_of(run_result(100)), summary_of(run_result(36))
    assert compare(head, base, Policy(regression_factor=2.0)).status == "regression"
    assert compare(head, base, Policy(regression_factor=3.0)).status == "no_change"


def test_not_reaching_the_target_is_a_regression_unless_the_run_stopped_first() -> None:
    base = summary_of(run_result(36))
    budget = summary_of(run_result(None, steps=500).model_copy(update={"verdict": "fail"}))
    out = compare(budget, base, POLICY, "main")
    assert (
        out.status == "regression"
        and "does not reach the target in 500 steps; main's run reached it in 36" in out.message
    )
    stopped = summary_of(run_result(None, steps=16).model_copy(update={"verdict": "fail"}))
    assert compare(stopped, base, POLICY, "main").status == "no_change"  # a check stopped it: said elsewhere


def test_a_check_that_passed_on_the_base_and_warns_or_fails_now() -> None:
    base = summary_of(run_result(36))
    checks = [
        {"name": "finite", "status": "warn", "message": "hm"},
        {"name": "gradient_flow", "status": "fail", "message": "no"},
        {"name": "causality", "status": "fail", "message": "new check: no base status"},
    ]
    head = summary_of(run_result(36, checks=checks, verdict="fail"))
    out = compare(head, base, POLICY, "main")
    assert out.status == "regression"
    assert [f.message for f in out.findings] == [
        "check `finite` passed on main and warns now",
        "check `gradient_flow` passed on main and fails now",
    ]


@pytest.mark.parametrize(
    ("first", "status"), [(1.6, "no_change"), (1.9, "no_change"), (2.1, "regression"), (1.1, "regression")]
)
def test_first_loss_tolerance(first: float, status: str) -> None:
    base = summary_of(run_result(36, first=1.6))
    out = compare(summary_of(run_result(36, first=first)), base, Policy(first_loss_tolerance=0.25), "main")
    assert out.status == status, out.message
    if status == "regression":
        assert out.findings[0].kind == "first_loss" and "the first loss moved from 1.598 on main" in out.message


# ---- policy and robustness ------------------------------------------------------------------


def _block(status: str = "regression", on: str = "warn") -> BaselineBlock:
    return BaselineBlock(status=status, message="regression against main: slow", policy=Policy(on_regression=on))


def test_warn_reports_and_fail_fails_and_a_recomparison_starts_from_the_run_verdict(tmp_path: Path) -> None:
    res = apply(run_result(148), _block(on="warn"))
    assert res.verdict == "pass" and res.baseline is not None
    res = apply(run_result(148), _block(on="fail"))
    assert res.verdict == "fail" and res.reason.endswith("but it is a regression against main: slow")
    assert res.baseline is not None and res.baseline.overrode is not None
    res.write(tmp_path)
    again = load_result(tmp_path)  # the override survives result.json
    restore(again)
    assert again.verdict == "pass" and again.reason == "the loss reached the target" and again.baseline is None
    # A failing run stays failing, with nothing to restore.
    failing = apply(run_result(None), _block(on="fail"))
    assert failing.verdict == "fail" and failing.baseline is not None and failing.baseline.overrode is None


@pytest.mark.parametrize("status", ["skipped", "not_comparable", "no_change"])
def test_nothing_but_a_regression_under_fail_touches_the_verdict(status: str) -> None:
    for verdict_target in (36, None):
        res = run_result(verdict_target)
        before = (res.verdict, res.reason)
        apply(res, _block(status, on="fail"))
        assert (res.verdict, res.reason) == before


def test_an_unreadable_base_folder_is_skipped_with_the_reason(tmp_path: Path) -> None:
    block = from_folder(run_result(36), tmp_path / "missing", POLICY)
    assert block.status == "skipped" and "no result.json" in block.message
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "result.json").write_text("{oops")
    assert "not valid JSON" in from_folder(run_result(36), tmp_path / "bad", POLICY).message


# ---- how it is shown ------------------------------------------------------------------------


def test_report_section_table_chart_and_terminal() -> None:
    base = run_result(36)
    block = BaselineBlock(
        status="regression",
        message="regression against main: reaches the target in 148 steps, 4.1× main's 36",
        source="github",
        label="main",
        sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
        base=summary_of(base),
    )
    res = apply(run_result(148), block)
    md = markdown(res)
    assert "### Compared with main @ f95f852" in md
    assert "| | this PR | main @ f95f852 |" in md and "| Steps to target | 148 (4.1×) | 36 |" in md
    assert "reported only: `on-regression: warn`" in md
    full = render_markdown(res)
    assert full.count("line [") == 2 and "The chart's second line: main @ f95f852" in full
    assert "main @ f95f852" in terminal(res) and "4.1×" in terminal(res)
    steps, values, label = overlay(res) or ([], [], "")
    assert steps[0] == 0 and steps[-1] == 55 and label == "main @ f95f852, target @ step 36"
    pair = chart_pair(res)
    assert pair is not None and len(pair[0]) == len(pair[1]) == 168
    # The shorter base run is held at its last value after it stopped.
    assert pair[1][-1] == pytest.approx(values[-1])


def test_skipped_and_not_comparable_show_a_line_and_no_table() -> None:
    res = apply(
        run_result(36), skipped("no `overfit-gate` check run on main's commit f95f852", POLICY, "github", "main")
    )
    md = markdown(res)
    assert "### Compared with main\n" in md and "Baseline skipped: no `overfit-gate` check run" in md
    assert "| Steps to target" not in md
    assert overlay(res) is None and chart_pair(res) is None
    assert "line [" in render_markdown(res) and render_markdown(res).count("line [") == 1


# ---- overfit-gate compare -------------------------------------------------------------------


def test_compare_command_exit_codes_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    run_result(36).write(base)
    run_result(148).write(head)
    assert cli(["compare", str(base), str(head)], {}) == 0  # warn by default
    assert "4.1× the base run's 36" in capsys.readouterr().out
    assert cli(["compare", "--on-regression", "fail", str(base), str(head)], {}) == 1
    assert cli(["compare", str(base), str(head)], {"OVERFIT_GATE_ON_REGRESSION": "fail"}) == 1
    assert cli(["compare", "--regression-factor", "5", "--on-regression", "fail", str(base), str(head)], {}) == 0
    assert cli(["compare", str(tmp_path / "nope"), str(head)], {}) == 2
    assert cli(["compare", "--regression-factor", "0.5", str(base), str(head)], {}) == 2
    capsys.readouterr()
    assert cli(["compare", "--on-regression", "fail", "--write", str(base), str(head)], {}) == 1
    written = load_result(head)
    assert written.verdict == "fail" and written.baseline is not None and written.baseline.status == "regression"
    assert (head / "loss.png").is_file() and "Compared with base run" in (head / "report.md").read_text()
    # Judged again with the default policy: the earlier override is undone, not stacked.
    assert cli(["compare", "--write", str(base), str(head)], {}) == 0
    assert load_result(head).verdict == "pass"


def test_a_reported_regression_is_an_actions_warning() -> None:
    from gate.report.actions import annotation_lines

    block = BaselineBlock(status="regression", message="regression against main: reaches the target in 148 steps")
    lines = annotation_lines(apply(run_result(148), block), {})
    assert lines == ["::warning title=overfit-gate%3A compared with the base branch::" + block.message]
    failed = apply(run_result(148), block.model_copy(update={"policy": Policy(on_regression="fail")}))
    assert [line.split("::")[1].split()[0] for line in annotation_lines(failed, {})] == ["error"]  # the verdict's


def test_a_forged_override_cannot_plant_a_verdict() -> None:
    res = run_result(None)
    res.baseline = BaselineBlock(status="regression", message="x", overrode={"verdict": "bogus", "reason": "r"})
    restore(res)
    assert res.verdict == "fail" and res.baseline is None
