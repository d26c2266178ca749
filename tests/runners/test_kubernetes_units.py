"""The kubernetes runner's pure parts: the Job manifest (validated against Kubernetes' own
definitions and the API server's semantic rules), pod state reading, the result transfer,
log timestamps, and its config keys."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from gate.config import Config, resolve
from gate.errors import ConfigError
from gate.runners.kubernetes import podstate
from gate.runners.kubernetes.jobspec import JobParams, build_job, job_name, label_value, run_labels, toleration
from gate.runners.kubernetes.logs import parse_stamp, split_lines
from gate.runners.kubernetes.podscripts import BOOTSTRAP, bootstrap_command, receive_command
from gate.runners.kubernetes.transfer import OutputCollector, workspace_archive
from tests.conftest import ROOT
from tests.fakekube import rules, schema

ENV = {
    "GITHUB_REPOSITORY": "octo-org/octo-repo",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_RUN_ID": "123456789",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_TOKEN": "ghs_secret",
    "ACTIONS_RUNTIME_TOKEN": "runtime_secret",
}


def _job(**kw: Any) -> dict[str, Any]:
    labels, annotations = run_labels(ENV, "overfit-gate")
    params = {
        "name": job_name(ENV),
        "image": "ghcr.io/o/train:1",
        "command": bootstrap_command("/overfit-gate", "n0nce", None),
        "root": "/overfit-gate",
        "timeout": 900.5,
        "namespace": "gate",
        "labels": labels,
        "annotations": annotations,
        **kw,
    }
    return build_job(JobParams(**params))


def _pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    return dict(job["spec"]["template"]["spec"])


def test_job_is_valid_for_the_api_server() -> None:
    job = _job(node_selector=["gpu=l4"], tolerations=["nvidia.com/gpu:NoSchedule"], limits=["memory=8Gi", "cpu=2"])
    assert schema.errors(schema.JOB, job) == []
    assert rules.job_problems(job) == []


def test_job_least_privilege() -> None:
    job = _job()
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 901  # the gate timeout, rounded up
    assert spec["ttlSecondsAfterFinished"] == 600
    pod = _pod_spec(job)
    assert pod["automountServiceAccountToken"] is False
    assert pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not (pod["hostNetwork"] or pod["hostPID"] or pod["hostIPC"])
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert all("emptyDir" in v for v in pod["volumes"])  # no hostPath, no secrets


def test_job_carries_no_credentials() -> None:
    text = json.dumps(_job())
    assert "ghs_secret" not in text and "runtime_secret" not in text
    names = {e["name"] for e in _pod_spec(_job())["containers"][0]["env"]}
    assert not any(n.startswith(("GITHUB_", "ACTIONS_")) or "TOKEN" in n for n in names)


def test_job_labels_identify_repo_sha_and_run() -> None:
    job = _job()
    labels = job["metadata"]["labels"]
    assert labels["overfit-gate.dev/repo"] == "octo-org.octo-repo"
    assert labels["overfit-gate.dev/sha"] == "a" * 40
    assert labels["overfit-gate.dev/run"] == "123456789-2"
    assert job["metadata"]["annotations"]["overfit-gate.dev/repository"] == "octo-org/octo-repo"
    assert job["metadata"]["name"].startswith("overfit-gate-123456789-")
    pod_labels = job["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["overfit-gate.dev/job"] == job["metadata"]["name"]
    assert pod_labels["overfit-gate.dev/network"] == "off"


def test_label_values_are_always_valid() -> None:
    for text in ("a/b", "-x-", "é" * 80, "x" * 100 + "_", ""):
        value = label_value(text)
        assert rules.LABEL_VALUE.fullmatch(value) and len(value) <= 63, value


@pytest.mark.parametrize(
    ("gpus", "resource", "limits"),
    [
        (1, "nvidia.com/gpu", {"nvidia.com/gpu": "1"}),
        (1, "amd.com/gpu", {"amd.com/gpu": "1"}),
        (0, "nvidia.com/gpu", None),
    ],
)
def test_gpu_request(gpus: int, resource: str, limits: dict[str, str] | None) -> None:
    res = _pod_spec(_job(gpus=gpus, gpu_resource=resource))["containers"][0]["resources"]
    assert res.get("limits") == limits


def test_limits_are_requests_too() -> None:
    res = _pod_spec(_job(limits=["memory=8Gi", "cpu=2"]))["containers"][0]["resources"]
    assert res["limits"] == {"memory": "8Gi", "cpu": "2", "nvidia.com/gpu": "1"}
    assert res["requests"] == {"memory": "8Gi", "cpu": "2"}


def test_node_selector_and_tolerations() -> None:
    pod = _pod_spec(
        _job(
            node_selector=["pool=gpu", "zone = a"],
            tolerations=["nvidia.com/gpu:NoSchedule", "team=ml:NoExecute", "spot"],
        )
    )
    assert pod["nodeSelector"] == {"pool": "gpu", "zone": "a"}
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoExecute"},
        {"key": "spot", "operator": "Exists"},
    ]


@pytest.mark.parametrize("bad", ["gpu:Sometimes", ":NoSchedule", "=x"])
def test_bad_toleration(bad: str) -> None:
    with pytest.raises(ValueError):
        toleration(bad)


def test_config_keys_from_inputs_and_file(tmp_path: Path) -> None:
    env = {
        "INPUT_RUNNER": "kubernetes",
        "INPUT_KUBERNETES-NODE-SELECTOR": "pool=gpu, zone=a",
        "INPUT_KUBERNETES-TOLERATIONS": "nvidia.com/gpu:NoSchedule",
        "INPUT_KUBERNETES-LIMITS": "memory=8Gi",
        "INPUT_KUBERNETES-NAMESPACE": "ml-ci",
    }
    cfg = resolve({}, env, tmp_path)
    assert cfg.runner == "kubernetes" and cfg.kubernetes_namespace == "ml-ci"
    assert cfg.kubernetes_node_selector == ["pool=gpu", "zone=a"]
    assert cfg.kubernetes_tolerations == ["nvidia.com/gpu:NoSchedule"]
    # Workflow-only, like every runner key: a PR's own config must not choose its cluster or nodes.
    (tmp_path / "x.toml").write_text('kubernetes-tolerations = ["node-role.kubernetes.io/control-plane:NoSchedule"]\n')
    with pytest.raises(ConfigError):
        resolve({}, {}, tmp_path, "x.toml")
    for key in Config.model_fields:
        if key.startswith("kubernetes_"):
            extra = Config.model_fields[key].json_schema_extra
            assert isinstance(extra, dict) and extra.get("trust") == "workflow", key


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"OVERFIT_GATE_KUBERNETES_TOLERATIONS": "gpu:Sometimes"}, "kubernetes-tolerations"),
        ({"OVERFIT_GATE_KUBERNETES_NODE_SELECTOR": "pool"}, "kubernetes-node-selector"),
        ({"OVERFIT_GATE_KUBERNETES_PENDING_TIMEOUT": "0"}, "kubernetes-pending-timeout"),
    ],
)
def test_bad_config_values(tmp_path: Path, env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        resolve({}, env, tmp_path)
    assert needle in err.value.message


# ---- pod states -----------------------------------------------------------------------------
def _pod(phase: str = "Pending", state: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    st: dict[str, Any] = {"phase": phase, **status}
    if state is not None:
        st["containerStatuses"] = [{"name": "harness", "state": state}]
    return {"metadata": {"name": "p"}, "status": st}


def test_pending_cause_unschedulable_names_the_gpu() -> None:
    msg = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    pod = _pod(conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg}])
    cause = podstate.pending_cause(pod, [], "img", "nvidia.com/gpu")
    assert msg in cause and "GPU node pool" in cause


def test_pending_cause_image_pull_from_events() -> None:
    pod = _pod(state={"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}})
    events = [{"type": "Warning", "reason": "Failed", "message": 'Failed to pull image "x": not found'}]
    cause = podstate.pending_cause(pod, events, "x", None)
    assert "could not be pulled" in cause and "ImagePullBackOff" in cause


def test_permanent_waiting_reasons_fail_fast() -> None:
    assert podstate.permanent_failure(_pod(state={"waiting": {"reason": "InvalidImageName", "message": "bad"}}))
    assert podstate.permanent_failure(_pod(state={"waiting": {"reason": "ImagePullBackOff"}})) is None


@pytest.mark.parametrize(
    ("pod", "kind", "code"),
    [
        (_pod("Failed", {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}), "OutOfMemory", 137),
        (
            _pod(
                "Failed", {"terminated": {"exitCode": 137, "reason": "Error"}}, reason="Evicted", message="low memory"
            ),
            "Evicted",
            137,
        ),
        (
            _pod(
                "Failed",
                None,
                conditions=[{"type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler"}],
            ),
            "Evicted",
            None,
        ),
        (_pod("Failed", {"terminated": {"exitCode": 1, "reason": "Error"}}), None, 1),
        (_pod("Succeeded", {"terminated": {"exitCode": 0, "reason": "Completed"}}), None, 0),
    ],
)
def test_endings(pod: dict[str, Any], kind: str | None, code: int | None) -> None:
    end = podstate.ending(pod, "4Gi")
    assert end.exit_code == code
    assert (end.error_type if end.error else None) == kind
    if kind == "OutOfMemory":
        assert "OOMKilled" in (end.error or "") and "4Gi" in (end.error or "")


def test_pod_deadline_is_a_timeout() -> None:
    assert podstate.ending(_pod("Failed", None, reason="DeadlineExceeded"), None).timed_out


# ---- transfer -------------------------------------------------------------------------------
def _marked(nonce: str, files: dict[str, bytes], code: int = 0) -> list[str]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    text = base64.b64encode(buf.getvalue()).decode()
    tag = f"::overfit-gate-{nonce}::"
    return [f"{tag}begin {len(text)}", *(tag + text[i : i + 10] for i in range(0, len(text), 10)), f"{tag}end {code}"]


def test_output_collector_roundtrip_and_filters(tmp_path: Path) -> None:
    c = OutputCollector("abc")
    lines = ["step 1", *_marked("abc", {"result.json": b"{}", "../evil": b"x", "loss.csv": b"step,loss\n"}), "tail"]
    shown = [line for line in lines if not c.feed(line)]
    assert shown == ["step 1", "tail"] and c.complete and c.exit_code == 0
    assert sorted(c.write(tmp_path)) == ["loss.csv", "result.json"]
    assert not (tmp_path.parent / "evil").exists()


def test_output_collector_malformed_block_writes_nothing(tmp_path: Path) -> None:
    c = OutputCollector("abc")
    for line in ["::overfit-gate-abc::begin 8", "::overfit-gate-abc::!!!!????", "::overfit-gate-abc::end 0"]:
        c.feed(line)
    assert c.complete and c.write(tmp_path) == [] and list(tmp_path.iterdir()) == []


def test_output_collector_incomplete() -> None:
    c = OutputCollector("abc")
    for line in _marked("abc", {"result.json": b"{}"})[:-2]:
        c.feed(line)
    assert not c.complete
    assert not OutputCollector("other").feed(_marked("abc", {})[0])  # another run's nonce is just log


def test_scripts_upload_run_and_emit(tmp_path: Path) -> None:
    """The in-pod halves run as they would in the image: receive unpacks the archive and marks
    it ready, the bootstrap runs the harness (a stand-in here) and prints the marked results."""
    work = tmp_path / "project"
    (work / "pkg").mkdir(parents=True)
    (work / "pkg" / "m.py").write_text("x = 1\n")
    (work / ".git").mkdir()
    (work / ".git" / "HEAD").write_text("ref")
    root = tmp_path / "pod"
    root.mkdir()
    archive = workspace_archive(work, tmp_path / "out", {"out": f"{root}/out"})
    data = archive.read()
    py = sys.executable
    received = subprocess.run(receive_command(str(root), len(data), py), input=data, capture_output=True, timeout=60)
    assert received.returncode == 0, received.stderr
    assert (root / ".ready").is_file() and (root / "work" / "pkg" / "m.py").read_text() == "x = 1\n"
    assert not (root / "work" / ".git").exists()
    assert (root / "gate" / "harness" / "__main__.py").is_file()
    # A stand-in for the harness (this test is about the plumbing): writes a result, exits 1.
    (root / "gate" / "harness" / "__main__.py").write_text(
        "import json,sys\nspec=json.load(open(sys.argv[2]))\nopen(spec['out']+'/result.json','w').write('{\"v\":1}')\nprint('trained')\nsys.exit(1)\n"
    )
    env = {"PATH": "/usr/bin:/bin"}
    cmd = bootstrap_command(str(root), "n1", py)
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    c = OutputCollector("n1")
    shown = [line for line in proc.stdout.splitlines() if not c.feed(line)]
    assert shown == ["trained"] and c.complete and c.exit_code == 1
    assert c.write(tmp_path) == ["result.json"] and json.loads((tmp_path / "result.json").read_text()) == {"v": 1}
    assert "$1" in BOOTSTRAP and str(root) not in BOOTSTRAP  # paths are arguments, never interpolated


# ---- logs -----------------------------------------------------------------------------------
def test_log_stamps_order_with_trimmed_fractions() -> None:
    a, b = parse_stamp("2026-01-01T00:00:00.5Z"), parse_stamp("2026-01-01T00:00:00.123456789Z")
    assert a is not None and b is not None and b < a
    assert parse_stamp("2026-01-01T00:00:01Z") == (a[0] + 1, 0)
    assert parse_stamp("not a stamp") is None


def test_split_lines_across_chunks() -> None:
    assert list(split_lines([b"ab", b"c\nd", b"\n", b"e"])) == ["abc", "d", "e"]


# ---- credentials ----------------------------------------------------------------------------
def test_connect_uses_the_pod_service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No kubeconfig: the in-cluster account, as the client's load_config() does, and its namespace."""
    pytest.importorskip("kubernetes")
    from kubernetes.config import incluster_config

    from gate.runners.kubernetes import cluster

    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "namespace").write_text("ml-ci\n")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(tmp_path / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(tmp_path / "ca.crt"))
    monkeypatch.setattr(cluster, "SA_NAMESPACE", tmp_path / "namespace")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    api, namespace = cluster.connect({"HOME": str(tmp_path)})
    try:
        assert namespace == "ml-ci"
        assert api.configuration.host == "https://10.0.0.1:443"
        assert api.configuration.api_key["BearerToken"].lower() == "bearer sa-token"
    finally:
        api.close()


def test_connect_without_credentials_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("kubernetes")
    from gate.errors import RunnerError
    from gate.runners.kubernetes import cluster

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(RunnerError) as err:
        cluster.connect({"HOME": str(tmp_path)})
    assert "no Kubernetes credentials" in err.value.message and "KUBECONFIG" in err.value.hint


def test_api_errors_name_the_fix() -> None:
    from gate.runners.kubernetes.cluster import api_error

    class Exc(Exception):
        def __init__(self, status: int, body: str) -> None:
            self.status, self.body, self.reason = status, body, "x"

    forbidden = api_error(Exc(403, '{"message": "jobs.batch is forbidden"}'), "create Jobs", "ml")
    assert "may not create Jobs in namespace ml" in forbidden.message and "Role" in forbidden.hint
    missing = api_error(Exc(404, '{"message": "namespaces \\"ml\\" not found"}'), "create Jobs", "ml")
    assert "does not exist" in missing.message and "kubernetes-namespace" in missing.hint


def test_sha_label_is_the_pr_head(tmp_path: Path) -> None:
    """On a pull request GITHUB_SHA is a merge commit; the label names the commit under test."""
    from gate.runners.kubernetes.runner import _target_sha

    event = ROOT / "tests" / "data" / "github" / "events" / "pull_request.synchronize.json"
    payload = json.loads(event.read_text())
    env = {**ENV, "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    head = _target_sha(env)
    assert head == payload["pull_request"]["head"]["sha"] and head != ENV["GITHUB_SHA"]
    labels, _ = run_labels(env, "g", head)
    assert labels["overfit-gate.dev/sha"] == head
    assert _target_sha({"GITHUB_EVENT_NAME": "push"}) is None
