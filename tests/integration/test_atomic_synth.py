"""A failed `make synth` leaves cdktf.out/, atlantis.yaml and README.md byte-identical."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GUARDED = ("cdktf.out", "atlantis.yaml", "README.md")
SKIP = shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__", ".pytest_cache",
                              ".ruff_cache", "build", ".synth-*")

# Plants a violation that only the governance rules catch (a bucket with
# AWS-managed encryption and an invalid name), after every stack is built.
PLANT_POLICY_VIOLATION = """
import sys
import stacks.app as app_module
original = app_module.build_app
def planted(*args, **kwargs):
    app, graph = original(*args, **kwargs)
    stack = app.node.find_child("logging")
    stack.add_override("resource.aws_s3_bucket.planted", {"bucket": "Planted_Bucket"})
    return app, graph
app_module.build_app = planted
from tools.synth import run
sys.exit(run(["--publish"]))
"""


def snapshot(root: Path) -> dict[str, bytes]:
    files = {}
    for name in GUARDED:
        path = root / name
        if path.is_dir():
            files.update({str(p.relative_to(root)): p.read_bytes()
                          for p in sorted(path.rglob("*")) if p.is_file()})
        elif path.exists():
            files[name] = path.read_bytes()
    return files


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=SKIP)
    return copy


def run_in(copy: Path, *args: str, env: dict | None = None):
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          timeout=600, env=env)


def test_settings_error_leaves_output_untouched(repo_copy):
    before = snapshot(repo_copy)
    settings = repo_copy / "environments" / "prod.py"
    settings.write_text(settings.read_text().replace('"10.0.32.0/19"', '"10.0.32.0/33"'))
    result = run_in(repo_copy, "main.py", "--publish")
    assert result.returncode == 1
    assert "network.private_subnets[0].cidr is '10.0.32.0/33'" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(repo_copy) == before
    assert not list(repo_copy.glob(".synth-*"))


def test_policy_failure_after_synth_leaves_output_untouched(repo_copy):
    before = snapshot(repo_copy)
    result = run_in(repo_copy, "-c", PLANT_POLICY_VIOLATION)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "logging/aws_s3_bucket.planted" in result.stderr
    assert "cdktf.out was not changed" in result.stderr
    assert snapshot(repo_copy) == before
    assert not list(repo_copy.glob(".synth-*"))
