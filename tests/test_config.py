"""Config resolution: precedence, kebab/snake keys, unknown keys with a hint, types."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.config import resolve
from gate.errors import ConfigError


def write_pyproject(tmp_path: Path, body: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname='x'\n\n[tool.overfit-gate]\n{body}\n")


def test_defaults(tmp_path: Path) -> None:
    cfg = resolve({}, {}, tmp_path)
    assert cfg.steps == 500 and cfg.target_ratio == 0.01 and cfg.device == "auto" and cfg.mode == "task"


def test_precedence_file_env_input_cli(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'steps = 100\ntarget-ratio = 0.05\nseed = 1\ndevice = "cpu"')
    env = {"OVERFIT_GATE_STEPS": "200", "OVERFIT_GATE_SEED": "2", "INPUT_STEPS": "300"}
    cfg = resolve({"steps": 400}, env, tmp_path)
    assert cfg.steps == 400  # CLI beats all
    assert cfg.seed == 2  # env beats file
    assert cfg.target_ratio == 0.05  # file beats default
    assert cfg.device == "cpu"
    assert resolve({}, env, tmp_path).steps == 300  # action input beats env


def test_empty_action_input_does_not_override(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "steps = 123")
    assert resolve({}, {"INPUT_STEPS": "", "INPUT_TARGET-RATIO": "  "}, tmp_path).steps == 123


def test_kebab_action_inputs_and_lists(tmp_path: Path) -> None:
    env = {"INPUT_TARGET-RATIO": "0.02", "INPUT_SKIP-CHECKS": "causality, input_dependence", "INPUT_GITHUB-TOKEN": "x"}
    cfg = resolve({}, env, tmp_path)
    assert cfg.target_ratio == 0.02
    assert cfg.skip_checks == ["causality", "input_dependence"]


def test_command_from_env_is_shell_split(tmp_path: Path) -> None:
    cfg = resolve({}, {"INPUT_COMMAND": "python train.py --layers 1,2 --name 'a b'"}, tmp_path)
    assert cfg.command == ["python", "train.py", "--layers", "1,2", "--name", "a b"]
    assert cfg.mode == "script"


def test_unknown_key_in_file_suggests(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "target_ration = 0.1")
    with pytest.raises(ConfigError) as info:
        resolve({}, {}, tmp_path)
    assert "target_ration" in str(info.value) and "did you mean `target-ratio`" in str(info.value)
    assert info.value.exit_code == 2


def test_unknown_env_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean `steps`"):
        resolve({}, {"OVERFIT_GATE_STEPZ": "3"}, tmp_path)


def test_bad_value_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`steps`"):
        resolve({}, {"OVERFIT_GATE_STEPS": "many"}, tmp_path)
    with pytest.raises(ConfigError, match="`target-ratio`"):
        resolve({"target_ratio": 1.5}, {}, tmp_path)


def test_both_modes_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not both"):
        resolve({"entrypoint": "a.py:f", "command": ["python", "t.py"]}, {}, tmp_path)


def test_explicit_config_file(tmp_path: Path) -> None:
    (tmp_path / "gate.toml").write_text("steps = 42\n")
    assert resolve({}, {}, tmp_path, "gate.toml").steps == 42
    with pytest.raises(ConfigError, match="does not exist"):
        resolve({}, {}, tmp_path, "missing.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.overfit-gate\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        resolve({}, {}, tmp_path)


def test_settings_with_their_own_channel_are_not_config_keys(tmp_path: Path) -> None:
    # `run` reads these itself (the config file locates the config; the token never enters it):
    # the env layer must not reject them as unknown keys.
    env = {"OVERFIT_GATE_CONFIG_FILE": "gate.toml", "OVERFIT_GATE_GITHUB_TOKEN": "t0ken", "INPUT_CONFIG-FILE": "x.toml"}
    (tmp_path / "x.toml").write_text("steps = 3\n")
    cfg = resolve({}, env, tmp_path)
    assert "t0ken" not in cfg.model_dump_json()
    assert cfg.steps == 3  # the action input names the file (inputs override the environment)


def test_report_folder_follows_the_layers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.config import report_folder

    monkeypatch.chdir(tmp_path)
    env = {"OVERFIT_GATE_OUT": "from-env", "INPUT_OUT": "from-input"}
    assert report_folder("from-flag", env) == tmp_path / "from-flag"
    assert report_folder(None, env) == tmp_path / "from-input"
    assert report_folder(None, {"OVERFIT_GATE_OUT": "from-env"}) == tmp_path / "from-env"
    assert report_folder(None, {}) == tmp_path / "overfit-gate-report"


def test_working_directory_from_pyproject_applies_to_the_run(tmp_path: Path) -> None:
    # Regression: `working-directory = "sub"` in pyproject.toml was accepted, then ignored: the
    # run (and the entry-point check) used the folder the gate started in.
    write_pyproject(tmp_path, 'working-directory = "sub"')
    (tmp_path / "sub").mkdir()
    cfg = resolve({}, {}, tmp_path)
    assert cfg.workdir(tmp_path) == (tmp_path / "sub").resolve()
    # The flag still wins, and names where the config file is looked for.
    (tmp_path / "flag").mkdir()
    write_pyproject(tmp_path / "flag", "steps = 7")
    cfg = resolve({"working_directory": "flag"}, {}, tmp_path)
    assert cfg.workdir(tmp_path) == (tmp_path / "flag").resolve() and cfg.steps == 7


def test_config_file_from_any_layer_is_read_relative_to_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "gate.toml").write_text("steps = 11\n")
    for env in ({"INPUT_CONFIG-FILE": "gate.toml"}, {"OVERFIT_GATE_CONFIG_FILE": "gate.toml"}):
        env = {**env, "INPUT_WORKING-DIRECTORY": "sub"}
        assert resolve({}, env, tmp_path).steps == 11
    with pytest.raises(ConfigError, match="does not exist"):
        resolve({}, {"OVERFIT_GATE_CONFIG_FILE": "missing.toml"}, tmp_path)


def test_defaults_have_one_source() -> None:
    # The harness's Spec holds the defaults; Config and Monitor must not restate them.
    import inspect
    from dataclasses import fields

    from gate.config import Config
    from gate.harness.spec import Spec
    from gate.harness.verdict import Monitor

    shared = [f.name for f in fields(Spec) if f.name in Config.model_fields and f.name != "command"]
    assert len(shared) > 10
    for name in shared:
        assert Config.model_fields[name].get_default(call_default_factory=True) == getattr(Spec(), name), name
    params = inspect.signature(Monitor).parameters
    for name in ("target_ratio", "confirm_steps", "divergence_factor", "patience"):
        assert params[name].default == getattr(Spec(), name)
