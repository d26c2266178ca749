"""The real-code cases: training scripts written the way real projects write them
(nanoGPT, Hugging Face Trainer, Lightning, torchvision's classification recipe), each run
clean and with one realistic one-line bug, and the verdict the gate must give.

A bug is a literal (old, new) replacement applied to a copy of the case folder; ``old``
must occur exactly once, so a case cannot silently stop injecting its bug. Shared by
tests/real/test_real_code.py and benchmarks/real_code.py (the RESULTS.md table)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Small and fast: the whole suite runs in CI on 2 cores.
NANOGPT_ARGS = ["--max_iters=1000", "--eval_interval=500", "--log_interval=100", "--learning_rate=1e-2"]


@dataclass(frozen=True)
class Case:
    id: str
    folder: str
    script: str
    args: list[str] = field(default_factory=list)
    bug: tuple[str, str] | None = None  # (old, new) in `file`
    file: str = ""
    verdict: str = "pass"
    failing: str | None = None  # the check that must fail (None: the loss verdict decides)

    def command(self) -> list[str]:
        return ["python", self.script, *self.args]


CASES = [
    # nanoGPT style: configurator overrides, no DataLoader (module replay), grad accumulation.
    Case("nanogpt-clean", "nanogpt", "train.py", NANOGPT_ARGS),
    Case(
        "nanogpt-compile-accum",
        "nanogpt",
        "train.py",
        [*NANOGPT_ARGS, "--compile=True", "--compile_backend=eager", "--gradient_accumulation_steps=2"],
    ),
    Case("nanogpt-dropout", "nanogpt", "train.py", [*NANOGPT_ARGS, "--dropout=0.2"]),
    Case(
        "nanogpt-no-causal-mask",
        "nanogpt",
        "train.py",
        NANOGPT_ARGS,
        (
            "dropout_p=self.dropout if self.training else 0, is_causal=True",
            "dropout_p=self.dropout if self.training else 0, is_causal=False",
        ),
        "model.py",
        "fail",
        "causality",
    ),
    Case(
        "nanogpt-head-transpose-dropped",
        "nanogpt",
        "train.py",
        NANOGPT_ARGS,
        ("y = y.transpose(1, 2).contiguous().view(B, T, C)", "y = y.contiguous().view(B, T, C)"),
        "model.py",
        "fail",
        "causality",
    ),
    Case(
        "nanogpt-unshifted-targets",
        "nanogpt",
        "train.py",
        NANOGPT_ARGS,
        ("data[i + 1 : i + 1 + block_size]", "data[i : i + block_size]"),
        "train.py",
        "fail",
        "causality",
    ),
    Case(
        "nanogpt-batch-mixing-view",
        "nanogpt",
        "train.py",
        NANOGPT_ARGS,
        ("y = y.transpose(1, 2).contiguous().view(B, T, C)", "y = y.permute(2, 0, 1, 3).contiguous().view(B, T, C)"),
        "model.py",
        "fail",
        "batch_independence",
    ),
    # Hugging Face Trainer, tiny random models, local tokenizers.
    Case("hf-bert-clean", "hf", "train_bert_classifier.py"),
    Case(
        "hf-bert-negated-loss",
        "hf",
        "train_bert_classifier.py",
        bug=(
            "return (loss, outputs) if return_outputs else loss",
            "return (-loss, outputs) if return_outputs else -loss",
        ),
        file="train_bert_classifier.py",
        verdict="fail",
        failing="loss_direction",
    ),
    Case("hf-gpt2-clean", "hf", "train_gpt2_clm.py"),
    Case(
        "hf-gpt2-labels-shifted-twice",
        "hf",
        "train_gpt2_clm.py",
        bug=('"labels": b.copy()', '"labels": b[1:] + [b[-1]]'),
        file="train_gpt2_clm.py",
        verdict="fail",
        failing="causality",
    ),
    # Lightning docs style.
    Case("lightning-clean", "lightning", "train_lit.py"),
    Case(
        "lightning-no-return-loss",
        "lightning",
        "train_lit.py",
        bug=('        self.log("train_loss", loss)\n        return loss', '        self.log("train_loss", loss)'),
        file="train_lit.py",
        verdict="fail",
    ),
    Case(
        "lightning-detached-encoder",
        "lightning",
        "train_lit.py",
        bug=("return self.head(self.encoder(x))", "return self.head(self.encoder(x).detach())"),
        file="train_lit.py",
        verdict="fail",
        failing="gradient_flow",
    ),
    # torchvision-recipe style ResNet with BatchNorm and label smoothing.
    Case("resnet-bn-label-smoothing-clean", "vision", "train_resnet.py"),
    Case(
        "resnet-bn-no-zero-grad",
        "vision",
        "train_resnet.py",
        bug=("        optimizer.zero_grad()\n", ""),
        file="train_resnet.py",
        verdict="fail",
        failing="grads_zeroed",
    ),
]


def materialise(case: Case, where: Path) -> Path:
    """A copy of the case's folder in ``where`` with its bug applied (and nanoGPT's data
    prepared); returns the folder to run in."""
    work = where / case.id
    shutil.copytree(HERE / case.folder, work, ignore=shutil.ignore_patterns("__pycache__", "data", "out"))
    if case.bug is not None:
        path = work / case.file
        text = path.read_text()
        old, new = case.bug
        assert text.count(old) == 1, f"{case.id}: the bug's line occurs {text.count(old)} times in {case.file}"
        path.write_text(text.replace(old, new))
    if case.folder == "nanogpt":
        subprocess.run([sys.executable, "prepare.py", "data/char"], cwd=work, check=True, capture_output=True)
    return work
