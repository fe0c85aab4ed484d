"""fast_synth: same bytes as the eager path, nothing left running or on disk."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fast_synth
from stacks.registry import STACK_NAMES

REPO = Path(__file__).resolve().parents[2]
PAYLOAD_LINES = 200_000

# Runs in a child process: exercises the lazy package, synthesizes a small app,
# reports its node processes, then writes a large stdout and calls exit_now.
DRIVER = textwrap.dedent(f"""
    import json, os, sys
    import fast_synth
    fast_synth.enable()
    import cdktf
    import cdktf_cdktf_provider_aws as aws
    from jsii import _reference_map

    before = "cdktf_cdktf_provider_aws.sns_topic" in sys.modules
    resolved = _reference_map._try_import_type_module("@cdktf/provider-aws.snsTopic.SnsTopic")
    checks = {{
        "attribute_access": aws.s3_bucket.S3Bucket.__name__,
        "in_dir": "kms_key" in dir(aws),
        "sns_loaded_before": before,
        "sns_resolved": resolved and "@cdktf/provider-aws.snsTopic.SnsTopic" in _reference_map._types,
        "modules": sum(1 for m in sys.modules if m.startswith("cdktf_cdktf_provider_aws.")),
    }}
    app = cdktf.App(outdir=sys.argv[1])
    stack = cdktf.TerraformStack(app, "probe")
    aws.provider.AwsProvider(stack, "aws", region="eu-west-1")
    aws.s3_bucket.S3Bucket(stack, "bucket", bucket="prod-probe")
    app.synth()

    def stat(pid):
        with open(f"/proc/{{pid}}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    popen = sys.modules["jsii._runtime"].kernel.provider._process._process
    node = popen.pid
    runtime_dir = os.path.dirname(os.path.dirname(popen.args[-1]))
    kernel = [int(p) for t in os.listdir(f"/proc/{{node}}/task")
              for p in open(f"/proc/{{node}}/task/{{t}}/children").read().split()]
    report = {{"checks": checks, "tmp": fast_synth._node_tmp, "runtime_dir": runtime_dir,
               "processes": {{str(p): stat(p)[19] for p in [node, *kernel]}}}}
    print(json.dumps(report), file=sys.stderr)
    for number in range({PAYLOAD_LINES}):
        print(f"line {{number}}")
    fast_synth.exit_now(0)
""")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_eager_synth_is_byte_identical(synth_dir, tmp_path):
    """CDKTF_FAST_SYNTH=0 (eager imports, orderly exit) writes exactly the session synth."""
    env = {**os.environ, "CDKTF_FAST_SYNTH": "0"}
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(tmp_path / "out"),
         "--generated-to", str(tmp_path / "generated"), "--skip-policies"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr
    for part in ("out", "generated"):
        fast, eager = _tree(synth_dir / part), _tree(tmp_path / part)
        assert fast, f"the session synth wrote no {part} files"
        assert sorted(fast) == sorted(eager)
        differing = [name for name in fast if fast[name] != eager[name]]
        assert not differing, f"files differ between fast and eager synth: {differing}"


@pytest.fixture(scope="module")
def fast_run(tmp_path_factory):
    """The driver's exit code, stdout lines and report."""
    out = tmp_path_factory.mktemp("fast-exit")
    result = subprocess.run([sys.executable, "-c", DRIVER, str(out)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    reports = [line for line in result.stderr.splitlines() if line.startswith('{"checks"')]
    assert reports, result.stderr
    report = json.loads(reports[-1])
    return result, report, out


def _alive(pid: str, started: str) -> bool:
    """True when `pid` is still the same process and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[19] == started and fields[0] != "Z"


def test_fast_exit_leaves_no_node_process(fast_run):
    result, report, _ = fast_run
    assert result.returncode == 0, result.stderr
    assert len(report["processes"]) == 2, "expected jsii-runtime.js and its kernel process"
    left = [pid for pid, started in report["processes"].items() if _alive(pid, started)]
    assert not left, f"node processes still running after exit_now: {left}"


def test_fast_exit_flushes_stdout_and_files(fast_run):
    result, _, out = fast_run
    lines = result.stdout.splitlines()
    assert len(lines) == PAYLOAD_LINES
    assert lines[-1] == f"line {PAYLOAD_LINES - 1}"
    stack = json.loads((out / "stacks" / "probe" / "cdk.tf.json").read_text())
    assert stack["resource"]["aws_s3_bucket"]["bucket"]["bucket"] == "prod-probe"


def test_fast_exit_removes_the_temporary_directories(fast_run):
    """The node child's private TMPDIR (its jsii-kernel-* work directory) and
    the directory where jsii wrote the runtime's scripts."""
    _, report, _ = fast_run
    assert report["tmp"] is not None
    assert not Path(report["tmp"]).exists()
    assert Path(report["runtime_dir"]).name.startswith("tmp")
    assert not Path(report["runtime_dir"]).exists()


def test_lazy_package_imports_submodules_on_demand(fast_run):
    _, report, _ = fast_run
    checks = report["checks"]
    assert checks["attribute_access"] == "S3Bucket"
    assert checks["in_dir"]
    # A class jsii meets without the app importing its module is still found.
    assert not checks["sns_loaded_before"]
    assert checks["sns_resolved"]
    # publication's `_private` twins count double; the package has ~2,100.
    assert checks["modules"] < 20


def test_namespace_map_matches_the_bindings():
    """Every submodule's jsii types live in the namespace fast_synth maps it to."""
    package = Path(importlib.util.find_spec(fast_synth.PACKAGE).origin).parent
    jsii_type = re.compile(r'jsii_type="@cdktf/provider-aws\.([^."]+)\.')
    wrong = []
    for module in sorted(p for p in package.iterdir() if p.is_dir() and not p.name.startswith("_")):
        with open(module / "__init__.py", encoding="utf-8") as handle:
            found = jsii_type.search(handle.read(16384)) or jsii_type.search(handle.read())
        if found is None or found.group(1) != fast_synth.namespace_of(module.name):
            wrong.append(module.name)
    assert not wrong


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("1", True), ("0", False)])
def test_enabled_honours_the_switch(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("CDKTF_FAST_SYNTH", raising=False)
    else:
        monkeypatch.setenv("CDKTF_FAST_SYNTH", value)
    assert fast_synth.enabled() is expected


def test_switched_off_enable_and_exit_are_plain(monkeypatch):
    monkeypatch.setenv("CDKTF_FAST_SYNTH", "0")
    probe = subprocess.run(
        [sys.executable, "-c", "import sys, fast_synth; fast_synth.enable(); "
         "print(sorted({'cdktf_cdktf_provider_aws', 'jsii'} & set(sys.modules)))"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stderr
    with pytest.raises(SystemExit) as exit_info:
        fast_synth.exit_now(3)
    assert exit_info.value.code == 3


def test_the_stack_registry_imports_every_stack_but_few_bindings():
    """stacks/registry.py names the stack classes, so importing it imports every
    stack module; with the lazy bindings that loads only the submodules the
    stacks name (~80 of ~2,100), and builds nothing."""
    probe = subprocess.run(
        [sys.executable, "-c",
         "import json, sys, fast_synth; fast_synth.enable(); from stacks import registry; "
         "print(json.dumps({'classes': [s.stack_class.__module__ for s in registry.STACKS], "
         "'bindings': sum(m.startswith(fast_synth.PACKAGE + '.') and m.count('.') == 1 "
         "for m in sys.modules)}))"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert report["classes"] == [f"stacks.{name}" for name in STACK_NAMES]
    package = Path(importlib.util.find_spec(fast_synth.PACKAGE).origin).parent
    available = sum(1 for p in package.iterdir() if p.is_dir() and not p.name.startswith("_"))
    assert 0 < report["bindings"] < available / 10, (report["bindings"], available)
