"""The repository's GitHub workflows pass two real linters with no finding:
check-jsonschema against SchemaStore's workflow schema, and zizmor's security audits
(template injection, unpinned actions, excessive permissions, credential persistence...).
Both run offline. A finding judged wrong is suppressed in .github/zizmor.yml with a reason,
never here. Also: every action is pinned to a full commit SHA with its tag beside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v\d+(\.\d+)*\s*$")


def tool(name: str) -> str:
    """The linter installed beside this Python (requirements-dev.txt pins it)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.fail(f"{name} is not installed in {path.parent}: run `make test` (or "
                    "`pip install -r requirements-dev.txt` into the venv)")
    return str(path)


def workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml"))


def run(*command: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_there_are_the_two_workflows():
    assert [p.name for p in workflow_files()] == ["ci.yml", "drift.yml"]


def test_workflows_match_the_github_workflow_schema():
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 *map(str, workflow_files()))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing():
    result = run(tool("zizmor"), "--offline", "--no-progress", "--color=never",
                 str(WORKFLOWS.relative_to(REPO)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout, result.stdout + result.stderr


def test_the_linters_do_find_what_they_look_for(tmp_path):
    # The same tools on a workflow with a typo'd key, an unpinned action and a pull
    # request title expanded into a shell: each must say so, or the checks above prove
    # nothing.
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "name: bad\non: pull_request\npermissions: {}\njobs:\n  greet:\n"
        "    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n          persist-credentials: false\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    result = run(tool("zizmor"), "--offline", "--no-progress", "--color=never",
                 ".github/workflows", cwd=tmp_path)
    assert result.returncode != 0
    assert "template-injection" in result.stdout and "unpinned-uses" in result.stdout
    bad.write_text(bad.read_text().replace("runs-on:", "runs-onn:"))
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                 str(bad))
    assert result.returncode != 0
    assert "runs-onn" in result.stdout + result.stderr


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_tag(path):
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses, f"{path.name} uses no action"
    assert [line for line in uses if not PINNED.match(line)] == []
    # One SHA per action and tag across the file, so an upgrade cannot miss a copy.
    pins = {PINNED.match(line).group(1, 2) for line in uses}
    assert len({action for action, _ in pins}) == len(pins)


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_permissions_are_empty_by_default_and_given_per_job(path):
    workflow = yaml.safe_load(path.read_text())
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert "contents" in job["permissions"], name
        assert set(job["permissions"].values()) <= {"read", "write"}, name
