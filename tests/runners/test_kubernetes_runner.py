"""The kubernetes runner against tests/fakekube: a real HTTP API server on 127.0.0.1 that
validates every request against Kubernetes' own definitions and runs the pod's container as a
local process (the real harness, real results). Every path ends with no Job and no pod left."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.cli import main as cli
from gate.commands.run import build_spec
from gate.config import resolve
from gate.errors import RunnerError
from gate.runners.base import Job, Outcome
from gate.runners.kubernetes import runner as k8s_runner
from gate.runners.kubernetes.runner import KubernetesRunner
from tests.conftest import ROOT
from tests.fakekube import FakeKube

pytest.importorskip("kubernetes", reason="the kubernetes runner's tests need `pip install -e .[dev]`")

IMAGE = "overfit-gate-train:cpu"
RBAC = ROOT / "examples" / "kubernetes" / "rbac.yaml"
HANG = "import time\n\ndef make_task():\n    time.sleep(600)\n"


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    fake = FakeKube(tmp_path / "node").start()
    # The pod's emptyDir lives on the fake node (this machine), under its root.
    monkeypatch.setattr(k8s_runner, "ROOT", str(tmp_path / "node" / "overfit-gate"))
    yield fake
    fake.stop()
    assert fake.rejected == [], fake.rejected  # every request body was valid
    assert fake.response_errors == [], fake.response_errors[:5]  # and so was every answer


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "project"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "mlp_classifier.py", work)
    shutil.copy(ROOT / "tests" / "tasks" / "broken.py", work)
    (work / "hang.py").write_text(HANG)
    return work


def _env(kube: FakeKube, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "KUBECONFIG": str(kube.kubeconfig(tmp_path / "kubeconfig")),
        "HOME": str(tmp_path),
        "PATH": os.environ["PATH"],
        "GITHUB_TOKEN": "ghs_NeverInThePod",
        "ACTIONS_RUNTIME_TOKEN": "actions_NeverInThePod",
        "GITHUB_REPOSITORY": "octo/repo",
        "GITHUB_SHA": "b" * 40,
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def _run(
    kube: FakeKube, tmp_path: Path, project: Path, entry: str, *, lines: list[str] | None = None, **cfg: Any
) -> Outcome:
    env = _env(kube, tmp_path)
    config = resolve(
        {"runner": "kubernetes", "image": IMAGE, "gpus": "0", "entrypoint": entry, "steps": 300, **cfg}, {}, project
    )
    out = tmp_path / "out"
    spec = build_spec(config, out)
    job = Job(spec=spec, out_dir=out, workdir=project, timeout=config.timeout, config=config, env=env)
    sink = lines if lines is not None else []
    return KubernetesRunner(cleanup_wait=20).run(job, sink.append)


def _gate(kube: FakeKube, tmp_path: Path, project: Path, *args: str, capsys: Any = None) -> tuple[int, dict[str, Any]]:
    import json

    out = tmp_path / "report"
    cwd = os.getcwd()
    os.chdir(project)
    try:
        code = cli(
            ["run", "--runner", "kubernetes", "--image", IMAGE, "--gpus", "0", "--out", str(out), *args],
            _env(kube, tmp_path),
        )
    finally:
        os.chdir(cwd)
    return code, json.loads((out / "result.json").read_text())


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_pass_end_to_end(kube: FakeKube, tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = _gate(kube, tmp_path, project, "--entrypoint", "mlp_classifier.py:make_task")
    output = capsys.readouterr().out
    assert code == 0, output
    assert result["verdict"] == "pass" and result["steps"] > 0
    assert (tmp_path / "report" / "loss.csv").read_text().startswith("step,loss")
    assert "overfit-gate: pod " in output and "training log follows" in output
    assert "::overfit-gate-" not in output  # the result block is not shown as log
    assert kube.leftovers() == []
    # One Job, created and deleted with foreground propagation.
    verbs = [(r.verb, r.resource) for r in kube.requests]
    assert verbs.count(("create", "jobs")) == 1 and ("delete", "jobs") in verbs
    assert ("create", "pods/exec") in verbs and ("get", "pods/log") in verbs and ("watch", "pods") in verbs


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_fail_verdict(kube: FakeKube, tmp_path: Path, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = _gate(kube, tmp_path, project, "--entrypoint", "broken.py:sign_flipped", "--steps", "200")
    assert code == 1, capsys.readouterr().out
    assert result["verdict"] == "fail"
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_no_credentials_reach_the_pod(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    (project / "leak.py").write_text(
        "import os\nfrom mlp_classifier import make_task as _m\n\ndef make_task():\n"
        "    print('ENV', sorted(k for k in os.environ if 'TOKEN' in k or k.startswith(('GITHUB_', 'ACTIONS_'))))\n"
        "    return _m()\n"
    )
    lines: list[str] = []
    outcome = _run(kube, tmp_path, project, "leak.py:make_task", lines=lines)
    assert outcome.exit_code == 0, lines
    assert "ENV []" in lines
    bodies = str(kube.created_jobs)
    assert (
        "NeverInThePod" not in bodies
        and kube.created_jobs[0]["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    )
    assert kube.leftovers() == []


def test_timeout(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    outcome = _run(kube, tmp_path, project, "hang.py:make_task", timeout=4)
    assert outcome.timed_out and outcome.exit_code is None
    assert kube.leftovers() == []


def test_timeout_through_the_cli(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    code, result = _gate(kube, tmp_path, project, "--entrypoint", "hang.py:make_task", "--timeout", "4")
    assert code == 3
    assert result["error"]["type"] == "Timeout" and "4s timeout" in result["reason"]
    assert kube.leftovers() == []


def test_job_deadline_from_the_cluster_is_a_timeout(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    """The Job controller's activeDeadlineSeconds fires first (the pod is deleted under us)."""
    kube.deadline_override = 3.0
    outcome = _run(kube, tmp_path, project, "hang.py:make_task", timeout=120)
    assert outcome.timed_out, outcome
    assert kube.leftovers() == []


def test_pod_security_refusal_is_named(
    kube: FakeKube, tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A namespace enforcing `restricted` refuses a pod that is not: the Job makes no pod, and
    the error says why (from the Job's FailedCreate event). The gate's own pod passes (see the
    least-privilege test); here one setting is taken away."""
    from gate.runners.kubernetes import jobspec

    real = jobspec._pod_spec

    def _weaker(params: Any) -> dict[str, Any]:
        spec = real(params)
        del spec["securityContext"]["seccompProfile"]
        return spec

    monkeypatch.setattr(jobspec, "_pod_spec", _weaker)
    kube.pod_security = "restricted"
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task", kubernetes_pending_timeout=2)
    assert outcome.error_type == "PodPending"
    assert "FailedCreate" in (outcome.error or "") and "seccompProfile" in (outcome.error or "")
    assert kube.leftovers() == []


def test_cancel_deletes_the_job(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    lines: list[str] = []

    def _cancel() -> None:
        while not any("training log follows" in line for line in lines):
            threading.Event().wait(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_cancel, daemon=True).start()
    outcome = _run(kube, tmp_path, project, "hang.py:make_task", lines=lines)
    assert outcome.cancelled
    assert kube.leftovers() == []
    assert any("deleted Job" in line for line in lines)


def test_unschedulable_gpu(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task", gpus="1", kubernetes_pending_timeout=2)
    assert outcome.error_type == "PodPending"
    assert "Insufficient nvidia.com/gpu" in (outcome.error or "") and "GPU node pool" in (outcome.error or "")
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_gpu_node_with_selector_and_toleration(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.node_gpus = {"amd.com/gpu": 1}
    kube.node_labels["pool"] = "gpu"
    kube.node_taints = [{"key": "amd.com/gpu", "effect": "NoSchedule"}]
    outcome = _run(
        kube,
        tmp_path,
        project,
        "mlp_classifier.py:make_task",
        gpus="1",
        kubernetes_gpu_resource="amd.com/gpu",
        kubernetes_node_selector=["pool=gpu"],
        kubernetes_tolerations=["amd.com/gpu:NoSchedule"],
    )
    assert outcome.exit_code == 0, outcome
    assert kube.leftovers() == []


def test_image_pull_backoff(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    outcome = _run(
        kube,
        tmp_path,
        project,
        "mlp_classifier.py:make_task",
        image="ghcr.io/nope/missing:1",
        kubernetes_pending_timeout=2,
    )
    assert outcome.error_type == "PodPending"
    assert "ghcr.io/nope/missing:1 could not be pulled" in (outcome.error or "")
    assert kube.leftovers() == []


def test_oom_killed(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.oom_after = 1.0
    outcome = _run(kube, tmp_path, project, "hang.py:make_task", kubernetes_limits=["memory=512Mi"])
    assert (
        outcome.error_type == "OutOfMemory"
        and "OOMKilled" in (outcome.error or "")
        and "512Mi" in (outcome.error or "")
    )
    assert kube.leftovers() == []


def test_evicted(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.evict_after = 1.0
    outcome = _run(kube, tmp_path, project, "hang.py:make_task")
    assert outcome.error_type == "Evicted" and "not the pipeline's" in (outcome.error or "")
    assert kube.leftovers() == []


def test_pod_deleted_under_the_run(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    """Someone (a node drain, an admin) deletes the running pod: the cluster's doing, said so."""
    lines: list[str] = []

    def _delete() -> None:
        while not any("training log follows" in line for line in lines):
            threading.Event().wait(0.1)
        for key in list(kube.pods):
            kube.delete_pod(key, grace=0.5)

    threading.Thread(target=_delete, daemon=True).start()
    outcome = _run(kube, tmp_path, project, "hang.py:make_task", lines=lines)
    assert outcome.error_type == "PodLost" and "deleted before it finished" in (outcome.error or "")
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_name_conflict_409_takes_another_name(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.fail("create", "jobs", 409)
    lines: list[str] = []
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task", lines=lines)
    assert outcome.exit_code == 0, lines
    assert any("trying another name" in line for line in lines)
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_create_answer_lost_after_commit(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    """A 500 after the Job was stored: the retry meets 409, recognises its own Job, goes on."""
    kube.fail("create", "jobs", 500, after_commit=True)
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task")
    assert outcome.exit_code == 0, outcome
    assert len(kube.created_jobs) == 1
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_watch_expiry_410_and_transient_5xx(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.expire_watches = 2
    kube.fail("list", "pods", 503, times=2)
    kube.fail("get", "pods/log", 500)
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task")
    assert outcome.exit_code == 0, outcome
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_dropped_log_stream_is_resumed_without_duplicates(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.drop_log_after = 2
    lines: list[str] = []
    outcome = _run(kube, tmp_path, project, "mlp_classifier.py:make_task", lines=lines, log_every=20)
    assert outcome.exit_code == 0
    (pod_log,) = kube.finished_logs.values()
    expected = [line for _, line in pod_log if not line.startswith("::overfit-gate-")]
    assert [line for line in lines if not line.startswith("overfit-gate:")] == expected


def test_api_error_still_cleans_up(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.fail("watch", "pods", 403, times=99)
    with pytest.raises(RunnerError, match="may not watch pods"):
        _run(kube, tmp_path, project, "mlp_classifier.py:make_task")
    assert kube.leftovers() == []


def test_api_down_is_an_error_result(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    kube.fail("create", "jobs", 500, times=99)
    code, result = _gate(kube, tmp_path, project, "--entrypoint", "mlp_classifier.py:make_task")
    assert code == 3 and result["error"]["type"] == "RunnerError"
    assert "HTTP 500" in result["reason"]
    assert kube.leftovers() == []


def test_upload_failure_names_the_python(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    with pytest.raises(RunnerError, match="uploading the workspace"):
        _run(kube, tmp_path, project, "mlp_classifier.py:make_task", python="/nonexistent/python3")
    assert kube.leftovers() == []


@pytest.mark.slow  # trains the example in the pod (the real harness)
def test_least_privilege_role_is_enough_and_all_used(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    docs = list(yaml.safe_load_all(RBAC.read_text()))
    (role,) = [d for d in docs if d["kind"] == "Role"]
    kube.rules = role["rules"]
    kube.pod_security = next(d for d in docs if d["kind"] == "Namespace")["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"
    ]
    assert _run(kube, tmp_path, project, "mlp_classifier.py:make_task").exit_code == 0
    assert _run(
        kube, tmp_path, project, "mlp_classifier.py:make_task", image="missing:1", kubernetes_pending_timeout=1
    ).error
    granted = {
        (g, r, v) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]
    }
    assert kube.used_rules == granted  # nothing granted that the gate does not use
    assert all("*" not in str(rule) for rule in role["rules"])
    assert kube.leftovers() == []


def test_fake_orphans_pods_without_a_propagation_policy(kube: FakeKube, tmp_path: Path, project: Path) -> None:
    """The trap the runner avoids: batch/v1 deletes a Job's pods only when asked to."""
    import kubernetes

    from gate.runners.kubernetes.cluster import connect

    api, _ = connect(_env(kube, tmp_path))
    batch = kubernetes.client.BatchV1Api(api)
    manifest = yaml.safe_load(
        f"""
apiVersion: batch/v1
kind: Job
metadata: {{name: plain}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: harness, image: {IMAGE}, command: [sleep, "30"]}}]
"""
    )
    batch.create_namespaced_job("gate", manifest)
    while not kube.pods:
        threading.Event().wait(0.05)
    batch.delete_namespaced_job("plain", "gate")
    threading.Event().wait(0.3)
    assert kube.leftovers() and all(x.startswith("pod/") for x in kube.leftovers())
    for key in list(kube.pods):
        kube.delete_pod(key, grace=0.5)
    api.close()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--image", ""], "needs a training image"),
        (["--dockerfile", "Dockerfile"], "cannot build `dockerfile`"),
        (["--gpus", "device=1"], "not supported by the kubernetes runner"),
    ],
)
def test_config_the_runner_cannot_use_is_exit_2_with_a_report(
    kube: FakeKube, tmp_path: Path, project: Path, args: list[str], needle: str
) -> None:
    code, result = _gate(kube, tmp_path, project, "--entrypoint", "mlp_classifier.py:make_task", *args)
    assert code == 2
    assert result["verdict"] == "error" and result["error"]["type"] == "ConfigError" and needle in result["reason"]
    assert kube.created_jobs == []


def test_fake_rejects_what_the_api_server_rejects(kube: FakeKube, tmp_path: Path) -> None:
    """The validation is live (raw HTTP: the client validates its own bodies before sending): a
    misspelt field is a 400 (strict decoding), a bad label value a 422, a missing namespace a 404,
    no token a 401; each answer a Status object."""
    import requests

    from tests.fakekube.server import TOKEN

    def post(ns: str, body: dict[str, Any], token: str = TOKEN) -> requests.Response:
        url = f"{kube.url}/apis/batch/v1/namespaces/{ns}/jobs"
        return requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def job(**meta: Any) -> dict[str, Any]:
        pod = {"restartPolicy": "Never", "containers": [{"name": "harness", "image": IMAGE}]}
        return {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "x", **meta},
            "spec": {"template": {"spec": pod}},
        }

    typo = job()
    typo["spec"]["template"]["spec"]["restartPolicyy"] = "Never"
    r = post("gate", typo)
    assert r.status_code == 400 and "restartPolicyy" in r.json()["message"] and r.json()["kind"] == "Status"
    r = post("gate", job(labels={"overfit-gate.dev/repo": "a/b"}))
    assert r.status_code == 422 and r.json()["reason"] == "Invalid"
    assert post("nope", job()).status_code == 404
    assert post("gate", job(), token="wrong").status_code == 401
    assert len(kube.rejected) == 2
    kube.rejected.clear()
    assert kube.leftovers() == []
