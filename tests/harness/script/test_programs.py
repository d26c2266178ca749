"""Real training programs as pytorch/examples writes them (our own small scripts in that
style, in tests/programs/): how they are structured and launched, and when an overfit test
does not apply at all (issue 13). Each is gated in-process through the harness entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.harness.script import command
from gate.harness.script.launchers import worker_env
from tests.conftest import ROOT
from tests.harness.script.test_script_mode import Harness, check, harness  # noqa: F401  (the fixture)

PROGRAMS = ROOT / "tests" / "programs"
NOT_APPLICABLE_END = "; gate a supervised component in task mode instead"


def program(name: str) -> str:
    return str(PROGRAMS / name)


def assert_not_applicable(code: int, result: dict, why: str) -> None:
    assert (code, result["verdict"]) == (4, "not_applicable"), result["reason"]
    assert result["reason"].startswith("not applicable: ") and result["reason"].endswith(NOT_APPLICABLE_END)
    assert why in result["reason"]
    assert not any(c["status"] == "fail" for c in result.get("checks", []))  # never a bug diagnosis


# ---- launchers: the command line


@pytest.mark.parametrize(
    ("cmd", "kind", "name", "args", "asked"),
    [
        (["torchrun", "--nproc_per_node=1", "train.py", "--lr", "3"], "path", "train.py", ["--lr", "3"], "1"),
        (["torchrun", "--standalone", "--nproc-per-node", "4", "train.py"], "path", "train.py", [], "4"),
        (["torchrun", "--nnodes=1", "-m", "pkg.train", "--x"], "module", "pkg.train", ["--x"], "1"),
        (["python", "-m", "torch.distributed.run", "--nproc_per_node", "2", "t.py", "a"], "path", "t.py", ["a"], "2"),
        (["python3", "-m", "torch.distributed.launch", "--use-env", "t.py"], "path", "t.py", [], "1"),
        (["accelerate", "launch", "--num_processes", "2", "--mixed_precision", "no", "t.py"], "path", "t.py", [], "2"),
        (["accelerate", "launch", "--cpu", "-m", "pkg.t"], "module", "pkg.t", [], "1"),
    ],
)
def test_launchers_run_one_worker(cmd: list[str], kind: str, name: str, args: list[str], asked: str) -> None:
    target = command.parse(cmd)
    assert (target.kind, target.name, target.args) == (kind, name, args)
    assert target.launch is not None and target.launch.asked == asked
    assert "one worker run in-process, world size 1, rank 0" in target.describe()


@pytest.mark.parametrize("cmd", [["torchrun"], ["torchrun", "--nproc_per_node"], ["torchrun", "--no_python", "x"]])
def test_launcher_commands_that_cannot_run_are_usage_errors(cmd: list[str]) -> None:
    with pytest.raises(command.TaskError):
        command.parse(cmd)


def test_worker_env_is_what_torchrun_gives_its_only_worker() -> None:
    env = worker_env()
    assert {k: env[k] for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE")} == dict.fromkeys(
        ("RANK", "LOCAL_RANK"), "0"
    ) | dict.fromkeys(("WORLD_SIZE", "LOCAL_WORLD_SIZE"), "1")
    assert env["MASTER_ADDR"] == "127.0.0.1" and int(env["MASTER_PORT"]) > 0


# ---- launchers end to end


@pytest.mark.slow
def test_torchrun_worker_written_for_gpus_passes(harness: Harness) -> None:  # noqa: F811
    code, result = harness("torchrun", "--nproc_per_node=1", program("ddp_worker.py"), device="cpu")
    assert code == 0, result["reason"]
    pin = result["pinning"]
    assert "torchrun: one worker run in-process, world size 1, rank 0" in pin
    assert "Sequential" in pin  # the model inside DistributedDataParallel, not the wrapper
    statuses = {c["name"]: c["status"] for c in result["checks"]}
    assert statuses["batch_independence"] == "pass" and statuses["gradient_flow"] == "pass"


@pytest.mark.slow
def test_accelerate_launch_runs_one_worker(harness: Harness) -> None:  # noqa: F811
    pytest.importorskip("accelerate")  # the `integrations` extra
    code, result = harness(
        "accelerate", "launch", "--num_processes", "2", program("accelerate_train.py"),
        device="cpu", skip_checks=["input_dependence"],
    )  # fmt: skip
    assert code == 0, result["reason"]
    assert (
        "accelerate launch: one worker run in-process, world size 1, rank 0 (the command asked for 2 workers)"
        in (result["pinning"])
    )


@pytest.mark.slow
def test_mp_spawn_runs_its_first_worker_in_process(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("spawn_workers.py"), device="cpu", skip_checks=["input_dependence"])
    assert code == 0, result["reason"]
    assert "mp.spawn(nprocs=2): its first worker runs in the gate's process" in result["pinning"]
    assert "init_process_group(world_size=2) joins a world of size 1" in result["pinning"]


# ---- loops that are not one optimizer.step() per loss


def test_hand_written_sgd_counts_steps_at_backward_and_pins_targets(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("regression_sgd.py"), device="cpu", skip_checks=["input_dependence"])
    assert code == 0, result["reason"]
    pin = result["pinning"]
    assert "steps counted at each backward: no torch.optim optimizer steps the model" in pin
    assert "the targets given to F.mse_loss were pinned with them" in pin
    assert result["steps"] < 500


def test_lbfgs_keeps_one_loss_per_step(harness: Harness, tmp_path: Path) -> None:  # noqa: F811
    _code, result = harness("python", program("sine_lbfgs.py"), "30", cwd=tmp_path, device="cpu", steps=30)
    firsts = json.loads((tmp_path / "lbfgs_firsts.json").read_text())
    n = len(firsts)  # the gate may stop the script inside its last step, before it writes
    assert result["steps"] in (n, n + 1) and len(result["losses"]) == result["steps"]
    # the loss of each step is its closure's first evaluation, not the sum of up to 20 of them
    assert result["losses"][:n] == pytest.approx(firsts, rel=1e-5)


# ---- programs an overfit test does not fit


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("gan.py", "optimizers over separate parameters take turns"),
        ("forward_forward.py", "no module is ever called as a whole"),
    ],
)
def test_not_applicable_programs(harness: Harness, name: str, why: str) -> None:  # noqa: F811
    code, result = harness("python", program(name), device="cpu")
    assert_not_applicable(code, result, why)


@pytest.mark.slow
def test_not_applicable_exits_4_through_the_cli_with_every_report(gate_cli, tmp_path: Path) -> None:
    code, result, output = gate_cli("run", "--device", "cpu", "--", "python", program("gan.py"), timeout=300)
    assert code == 4, output
    assert result is not None and result["verdict"] == "not_applicable"
    assert "NOT APPLICABLE" in output
    report = tmp_path / "report"
    assert {"loss.png", "junit.xml", "report.md", "result.json"} <= {p.name for p in report.iterdir()}


def test_reinforce_is_not_applicable_not_a_sign_error(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("reinforce.py"), device="cpu")
    assert_not_applicable(code, result, "")
    assert "sign error" not in result["reason"]
    assert "changes sign" in result["reason"] or "rollout" in result["reason"]


# ---- structure: graphs, sequence-first batches, model discovery


@pytest.mark.slow
def test_gcn_full_graph_is_not_a_samples_mix(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("gcn.py"), device="cpu", skip_checks=["input_dependence"])
    bi = check(result, "batch_independence")
    assert bi["status"] == "skip" and "graph input: a sparse (60, 60) tensor" in bi["message"]
    assert code == 0, result["reason"]
    # Adam(weight_decay=5e-4) is regularization: off for the overfit run, and said so
    assert "weight decay was turned off for the overfit run (0.0005 in Adam)" in " ".join(result["notes"])


def test_samples_dependent_key_skips_batch_independence(harness: Harness) -> None:  # noqa: F811
    _code, result = harness(
        "python", program("gcn.py"), device="cpu", samples_dependent=True, skip_checks=["input_dependence"]
    )
    assert "samples-dependent = true" in check(result, "batch_independence")["message"]


@pytest.mark.slow
def test_word_lm_short_last_batch_is_not_replayed(harness: Harness) -> None:  # noqa: F811
    _code, result = harness("python", program("word_lm.py"), device="cpu", skip_checks=["input_dependence"])
    assert result["verdict"] != "error", result.get("error")
    pin = result["pinning"]
    assert "with other input shapes (a short last batch) kept their own data" in pin
    assert "the targets given to F.nll_loss were pinned with them" in pin
    # (seq, batch): probed on dim 1 through the embedding, and recognised as a language model
    bi = check(result, "batch_independence")
    assert bi["status"] == "pass" and "probed samples 0 and 3" in bi["message"], bi  # a 4-sample slice of 6
    assert check(result, "causality")["status"] == "pass", check(result, "causality")


@pytest.mark.slow
@pytest.mark.parametrize("bug", [False, True])
def test_sequence_first_transformer_lm_is_held_to_causality(harness: Harness, bug: bool) -> None:  # noqa: F811
    # pytorch/examples' word_language_model --model Transformer: (seq, batch) ids, targets the
    # next row flattened; no causal-dim configured. Without its mask it sees the future.
    args = ["--no-mask"] if bug else []
    code, result = harness(
        "python", program("word_lm_transformer.py"), *args, device="cpu", skip_checks=["input_dependence"]
    )
    causality = check(result, "causality")
    if bug:
        assert (code, result["verdict"], causality["status"]) == (1, "fail", "fail"), causality
        assert "sees the future" in causality["message"] and "(dim 1)" in causality["message"]
    else:
        assert (code, result["verdict"]) == (0, "pass"), result["reason"]
        assert causality["status"] == "pass" and check(result, "batch_independence")["status"] == "pass"


@pytest.mark.parametrize("bug", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_an_encoder_decoder_is_held_to_causality_on_its_decoder_input(harness: Harness, bug: bool) -> None:  # noqa: F811
    # language_translation: nn.Transformer over (time, batch) ids, a 9-token source seen whole
    # through cross-attention, and a 7-token decoder input; without its target mask it sees the future.
    args = ["--no-mask"] if bug else []
    code, result = harness("python", program("translation.py"), *args, device="cpu", skip_checks=["input_dependence"])
    causality = check(result, "causality")
    if bug:
        assert (code, result["verdict"], causality["status"]) == (1, "fail", "fail"), causality
        assert "embedding `tgt_embedding` at later positions" in causality["message"]
    else:
        assert (code, result["verdict"]) == (0, "pass"), result["reason"]
        assert causality["status"] == "pass" and "targets are shifted" in causality["message"], causality


@pytest.mark.slow
def test_vae_reconstruction_floor_beside_an_unseen_kl_term_is_not_applicable(harness: Harness) -> None:  # noqa: F811
    vae = str(ROOT / "tests" / "script_cases" / "vae.py")
    code, result = harness("python", vae, "--digits", device="cpu", skip_checks=["input_dependence"])
    assert (code, result["verdict"]) == (4, "not_applicable"), result["reason"]
    assert "soft binary targets" in result["reason"] and "set target-loss (or loss-floor)" in result["reason"]
    assert not any(c["status"] == "fail" for c in result["checks"])


@pytest.mark.parametrize("args", [[], pytest.param(["--plateau"], marks=pytest.mark.slow)])
def test_a_script_annealing_its_rate_on_validation_loss_is_not_applicable(harness: Harness, args: list[str]) -> None:  # noqa: F811
    # word_language_model divides its hand-written lr by 4 whenever the validation loss does not
    # improve, which overfitting one batch guarantees; ReduceLROnPlateau(val_loss) does the same.
    code, result = harness("python", program("annealed_lr.py"), *args, device="cpu", skip_checks=["input_dependence"])
    assert (code, result["verdict"]) == (4, "not_applicable"), result["reason"]
    assert "the script cut its own learning rate from 0.4 to" in result["reason"], result["reason"]
    assert result["reason"].endswith("(turn the schedule or annealing off)")
    assert not any(c["status"] == "fail" for c in result["checks"])


@pytest.mark.slow
def test_a_plateau_scheduler_after_a_bug_flattened_the_loss_still_fails(harness: Harness) -> None:  # noqa: F811
    # Softmax twice: the loss flattens far above the target, then ReduceLROnPlateau on the
    # training loss cuts the rate 1000x. The plateau came first: the pipeline's failure stands.
    code, result = harness(
        "python", program("annealed_lr.py"), "--double-softmax", device="cpu", skip_checks=["input_dependence"]
    )
    assert (code, result["verdict"]) == (1, "fail"), result["reason"]
    assert result["event_kind"] in ("stalled", "budget") and "learning rate" not in result["reason"]


def test_optimizer_holding_only_frozen_parameters_fails_with_that_reason(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("frozen_optimizer.py"), device="cpu")
    assert (code, result["verdict"]) == (1, "fail")
    assert result["reason"].startswith("the optimizer holds only frozen parameters")
    assert "Sequential" in result["reason"]


def test_model_not_found_is_an_error_not_a_loss_verdict(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", program("direct_forward.py"), device="cpu")
    assert (code, result["verdict"], result["error"]["type"]) == (3, "error", "ModelNotFound")
    assert "called as model(x)" in result["reason"]
    assert result["steps"] == 0  # stopped at once, not after a run with every check skipped
