"""Delivery: committed cdktf.out/, atlantis.yaml and README sections equal a fresh
synth; atlantis.yaml is well-formed for Atlantis; `npx cdktf synth` equals `make synth`."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
import yaml

from environments import load_environments
from stacks.registry import spec_of, stacks_for
from synth.freshness import compare_trees, tree
from synth.layout import cli_stack_name

REPO = Path(__file__).resolve().parents[2]

# Keys Atlantis accepts in a repo-level atlantis.yaml (server/core/config/raw/
# repo_cfg.go, project.go and autoplan.go of runatlantis/atlantis).
REPO_KEYS = {
    "version", "projects", "workflows", "policies", "autodiscover", "automerge",
    "parallel_apply", "parallel_plan", "delete_source_branch_on_merge", "emoji_reaction",
    "allowed_regexp_prefixes", "abort_on_execution_order_fail", "repo_locks",
    "silence_pr_comments",
}
PROJECT_KEYS = {
    "name", "branch", "dir", "workspace", "workflow", "terraform_distribution",
    "terraform_version", "autoplan", "plan_requirements", "apply_requirements",
    "import_requirements", "depends_on", "delete_source_branch_on_merge", "repo_locking",
    "repo_locks", "execution_order_group", "policy_check", "custom_policy_check",
    "silence_pr_comments",
}
AUTOPLAN_KEYS = {"enabled", "when_modified"}
SSM_PATH = re.compile(r"^/[a-z0-9-]+/(?P<producer>[a-z0-9-]+)/[a-z0-9-]+$")


@pytest.fixture(scope="module")
def generated(synth_dir) -> Path:
    return synth_dir / "generated"


@pytest.fixture(scope="module")
def atlantis() -> dict:
    path = REPO / "atlantis.yaml"
    assert path.exists(), "atlantis.yaml is not committed; run `make synth`"
    return yaml.safe_load(path.read_text())


ENVIRONMENTS = load_environments()


@pytest.fixture(scope="module")
def projects(atlantis) -> dict[str, dict]:
    return {project["name"]: project for project in atlantis["projects"]}


def environment_and_stack(project: dict) -> tuple[str, str]:
    """From the project's dir, cdktf.out/<env>/stacks/<stack>."""
    root, environment, stacks, stack = project["dir"].split("/")
    assert (root, stacks) == ("cdktf.out", "stacks"), project["dir"]
    return environment, stack


def ssm_producers(env_stack_json, environment: str, stack: str) -> set[str]:
    """Stacks whose SSM parameters `stack` reads, from its synthesized data sources."""
    sources = env_stack_json(environment, stack).get("data", {}).get("aws_ssm_parameter", {})
    producers = set()
    for source in sources.values():
        match = SSM_PATH.match(source["name"])
        assert match, f"{stack} reads SSM parameter {source['name']!r}, not /<env>/<stack>/<name>"
        assert source["name"].startswith(f"/{environment}/"), (environment, source["name"])
        producers.add(match["producer"])
    return producers


# --- freshness ---------------------------------------------------------------
def test_committed_cdktf_out_equals_a_fresh_synth(synth_root):
    problems = compare_trees(synth_root, REPO / "cdktf.out", "cdktf.out/")
    assert not problems, (
        "committed cdktf.out/ differs from a fresh synth (run `make synth`):\n  "
        + "\n  ".join(problems))


def test_committed_generated_files_are_fresh(generated):
    """Every file the synth generates (synth/generated.py), not a list kept here."""
    names = sorted(p.relative_to(generated).as_posix() for p in generated.rglob("*")
                   if p.is_file())
    assert {"atlantis.yaml", "README.md"} <= set(names), names
    missing = [name for name in names if not (REPO / name).exists()]
    assert not missing, f"{', '.join(missing)} is not committed; run `make synth`"
    stale = [name for name in names
             if (generated / name).read_text() != (REPO / name).read_text()]
    assert not stale, f"{', '.join(stale)} is stale: run `make synth` and commit it"


def test_readme_diagram_shows_every_stack_and_phase_of_every_environment(generated):
    text = (generated / "README.md").read_text()
    section = text.split("<!-- stack-diagram:start -->")[1].split("<!-- stack-diagram:end -->")[0]
    diagrams = dict(re.findall(r"`([a-z0-9-]+)`:\n\n```mermaid\n(.*?)```", section, re.DOTALL))
    assert list(diagrams) == [s.name for s in ENVIRONMENTS]
    for settings in ENVIRONMENTS:
        # Nodes and arrows only: edge labels name parameters such as `secrets-key-arn`.
        diagram = re.sub(r'\|"[^"]*"\|', "", diagrams[settings.name])
        for spec in stacks_for(settings):
            assert re.search(rf"\b{spec.name}\b", diagram), (settings.name, spec.name)
            assert f"phase{spec.phase.number}" in diagram
        for spec in set(stacks_for(ENVIRONMENTS[-1])) - set(stacks_for(settings)):
            assert not re.search(rf"\b{spec.name}\b", diagram), (settings.name, spec.name)


def test_readme_shows_what_differs_between_the_environments(generated):
    text = (generated / "README.md").read_text()
    table = text.split("<!-- environments:start -->")[1].split("<!-- environments:end -->")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [s.name for s in ENVIRONMENTS]
    for row, settings in zip(rows, ENVIRONMENTS, strict=True):
        assert settings.account_id in row and settings.network.vpc_cidr in row
        assert settings.database.instance_class in row


def test_readme_opens_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    first_block = text.split("```", 2)[1]
    commands = [line for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["make synth", "make test"]


def test_freshness_ignores_local_terraform_state(tmp_path):
    fresh, committed = tmp_path / "fresh", tmp_path / "committed"
    for root in (fresh, committed):
        (root / "stacks" / "kms").mkdir(parents=True)
        (root / "stacks" / "kms" / "cdk.tf.json").write_text("{}")
    local = committed / "stacks" / "kms"
    (local / ".terraform").mkdir()
    (local / ".terraform" / "terraform.tfstate").write_text("x")
    (local / ".terraform.lock.hcl").write_text("x")
    (local / "kms.tfplan").write_text("x")
    assert compare_trees(fresh, committed) == []
    (fresh / "stacks" / "kms" / "cdk.tf.json").write_text('{"changed": true}')
    (fresh / "manifest.json").write_text("{}")
    (committed / "stacks" / "old.json").write_text("{}")
    assert compare_trees(fresh, committed, "cdktf.out/") == [
        "missing: cdktf.out/manifest.json (synth produces it, it is not committed)",
        "stale: cdktf.out/stacks/kms/cdk.tf.json",
        "extra: cdktf.out/stacks/old.json (committed, synth does not produce it)",
    ]


# --- atlantis.yaml is well-formed --------------------------------------------
def test_atlantis_yaml_says_it_is_generated():
    assert (REPO / "atlantis.yaml").read_text().startswith("# Generated by `make synth`")


def test_atlantis_yaml_uses_only_repo_level_keys(atlantis):
    assert atlantis["version"] == 3
    assert set(atlantis) <= REPO_KEYS, set(atlantis) - REPO_KEYS
    for project in atlantis["projects"]:
        assert set(project) <= PROJECT_KEYS, (project["name"], set(project) - PROJECT_KEYS)
        assert set(project["autoplan"]) <= AUTOPLAN_KEYS, project["name"]


def test_one_project_per_environment_and_stack_in_promotion_and_deploy_order(atlantis):
    expected = [cli_stack_name(settings.name, spec.name) for settings in ENVIRONMENTS
                for spec in stacks_for(settings)]
    assert [p["name"] for p in atlantis["projects"]] == expected
    for project in atlantis["projects"]:
        environment, stack = environment_and_stack(project)
        assert project["name"] == cli_stack_name(environment, stack)
        assert (REPO / project["dir"] / "cdk.tf.json").is_file(), project["dir"]
        assert project.get("workspace", "default") == "default"


def test_autoplan_watches_the_stack_json_and_its_assets(projects):
    for name, project in projects.items():
        autoplan = project["autoplan"]
        assert autoplan["enabled"] is True
        patterns = autoplan["when_modified"]
        assert "cdk.tf.json" in patterns, name
        has_assets = (REPO / project["dir"] / "assets").is_dir()
        assert ("assets/**" in patterns) == has_assets, name
        assert not [p for p in patterns if p.startswith(("/", ".."))], name
        if has_assets:
            assert tree(REPO / project["dir"] / "assets"), f"{name}: empty assets/"


def test_requirements_are_left_to_the_server(projects):
    # apply/plan/import requirements are restricted keys: the server-side config
    # sets them (tests/stacks/test_atlantis_server.py), so a PR cannot loosen them.
    for name, project in projects.items():
        assert not {"apply_requirements", "plan_requirements", "import_requirements"} & set(
            project), name


def test_terraform_version_is_an_exact_release_the_stacks_accept(projects, env_stack_json):
    for name, project in projects.items():
        version = project["terraform_version"]
        assert re.fullmatch(r"v1\.(\d+)\.\d+", version), (name, version)
        assert int(version.split(".")[1]) >= 11, (name, version)
        doc = env_stack_json(*environment_and_stack(project))
        assert doc["terraform"]["required_version"] == ">= 1.11.0, < 2.0.0"


def test_depends_on_names_resolve_and_has_no_cycles(projects):
    for name, project in projects.items():
        for dependency in project.get("depends_on", []):
            assert dependency in projects, f"{name} depends on unknown project {dependency!r}"
    sorter = TopologicalSorter({n: p.get("depends_on", []) for n, p in projects.items()})
    try:
        sorter.prepare()
    except CycleError as cycle:
        pytest.fail(f"depends_on has a cycle: {cycle.args[1]}")


def test_depends_on_covers_every_ssm_read_and_the_state_backend(projects, env_stack_json):
    for name, project in projects.items():
        environment, stack = environment_and_stack(project)
        dependencies = set(project.get("depends_on", []))
        needed = {cli_stack_name(environment, producer)
                  for producer in ssm_producers(env_stack_json, environment, stack)}
        missing = needed - dependencies
        assert not missing, f"{name} reads SSM parameters of {sorted(missing)} without depends_on"
        if stack != "bootstrap":
            assert cli_stack_name(environment, "bootstrap") in dependencies, (
                f"{name}'s state lives in its environment's bootstrap")
            backend = env_stack_json(environment, stack)["terraform"]["backend"]["s3"]
            assert backend["bucket"].startswith(f"{environment}-"), (name, backend["bucket"])


def test_a_project_applies_only_after_its_twin_in_the_environment_it_promotes_from(projects):
    by_name = {s.name: s for s in ENVIRONMENTS}
    for name, project in projects.items():
        environment, stack = environment_and_stack(project)
        source = by_name[environment].promotes_from
        twin = cli_stack_name(source, stack) if source else None
        other_environments = {d for d in project.get("depends_on", [])
                              if not d.startswith(f"{environment}-")}
        assert other_environments == ({twin} if twin in projects else set()), name


def test_staging_plans_and_applies_before_prod(projects):
    staging = [p["execution_order_group"] for p in projects.values()
               if p["name"].startswith("staging-")]
    prod = [p["execution_order_group"] for p in projects.values()
            if p["name"].startswith("prod-")]
    assert staging and prod and max(staging) < min(prod)


def test_execution_order_groups_follow_deploy_order_and_dependencies(projects):
    for name, project in projects.items():
        for dependency in project.get("depends_on", []):
            assert projects[dependency]["execution_order_group"] < \
                project["execution_order_group"], (name, dependency)
    for settings in ENVIRONMENTS:
        names = [spec.name for spec in stacks_for(settings)]
        for earlier, later in itertools.pairwise(names):
            a = projects[cli_stack_name(settings.name, earlier)]["execution_order_group"]
            b = projects[cli_stack_name(settings.name, later)]["execution_order_group"]
            same_parallel_phase = (spec_of(earlier).phase == spec_of(later).phase
                                   and spec_of(earlier).phase.parallel)
            assert (a == b) if same_parallel_phase else (a < b), (earlier, later, a, b)


def test_parallel_phase_projects_are_independent(projects):
    for settings in ENVIRONMENTS:
        specs = stacks_for(settings)
        for spec in specs:
            if not spec.phase.parallel:
                continue
            peers = {cli_stack_name(settings.name, s.name) for s in specs
                     if s.phase == spec.phase}
            project = projects[cli_stack_name(settings.name, spec.name)]
            overlap = peers & set(project.get("depends_on", []))
            assert not overlap, f"{project['name']} depends on {overlap} in its parallel phase"


# --- the cdktf CLI -----------------------------------------------------------
@pytest.mark.slow
def test_npx_cdktf_synth_is_byte_identical_to_make_synth(synth_root, tmp_path):
    if shutil.which("npx") is None or not (REPO / "node_modules" / ".bin" / "cdktf").exists():
        pytest.fail("the cdktf CLI is not installed: run `npm ci` (make test does)")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1",
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    out = tmp_path / "cli-out"
    result = subprocess.run(
        ["npx", "--no", "cdktf", "synth", "--output", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    problems = compare_trees(synth_root, out, what="in the `npx cdktf synth` output")
    assert not problems, "\n".join(problems)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["stacks"]) == sorted(
        cli_stack_name(s.name, spec.name) for s in ENVIRONMENTS for spec in stacks_for(s))
    for name, entry in manifest["stacks"].items():
        assert (out / entry["synthesizedStackPath"]).is_file(), name
