"""The Atlantis server as the atlantis stack deploys it: its flags and server-side
repo config (read from the synthesized task definition, not from a second copy)
accept the committed atlantis.yaml, require review, check out the merge, admit
only the allowlisted teams, keep strangers off the UI and refuse self-apply."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml

from environments import load_environment, load_environments
from environments.github_hooks import GITHUB_HOOK_RANGES
from local_deploy.atlantis_merge import validate_repo_cfg
from stacks.atlantis_repo_config import ATLANTIS_VERSION, RESTRICTED_KEYS, profile_name
from tests.stacks.synth_json import one, policy_at, resources, statements

REPO = Path(__file__).resolve().parents[2]
SETTINGS = load_environment("prod")
REPO_ID = f"github.com/{SETTINGS.github.repository}"


@pytest.fixture(scope="module")
def flags(containers):
    return {e["name"]: e["value"] for e in containers["atlantis"]["environment"]}


@pytest.fixture(scope="module")
def server_cfg(flags):
    return json.loads(flags["ATLANTIS_REPO_CONFIG_JSON"])


@pytest.fixture(scope="module")
def our_repo(server_cfg):
    [repo] = [r for r in server_cfg["repos"] if r["id"] == REPO_ID]
    return repo


@pytest.fixture(scope="module")
def repo_cfg(synth_dir):
    """The atlantis.yaml a fresh synth generates (the freshness test ties it to the
    committed one)."""
    return yaml.safe_load((synth_dir / "generated" / "atlantis.yaml").read_text())


def test_server_accepts_the_repo_config(repo_cfg, server_cfg):
    assert validate_repo_cfg(repo_cfg, server_cfg, REPO_ID) is None


def test_server_allows_exactly_the_restricted_keys_the_repo_config_uses(repo_cfg, our_repo):
    used = {key for project in repo_cfg["projects"] for key in project} & set(RESTRICTED_KEYS)
    assert set(our_repo["allowed_overrides"]) == used
    # Requirements and the workflow are server-side: the PR can loosen nothing.
    assert used == set()


@pytest.mark.parametrize(("key", "value"), [
    ("apply_requirements", []),
    ("plan_requirements", ["approved"]),
    ("delete_source_branch_on_merge", True),
])
def test_server_refuses_a_restricted_key_it_does_not_allow(repo_cfg, server_cfg, key, value):
    planted = copy.deepcopy(repo_cfg)
    planted["projects"][0][key] = value
    assert validate_repo_cfg(planted, server_cfg, REPO_ID) == (
        f"repo config not allowed to set '{key}' key: server-side config needs "
        f"'allowed_overrides: [{key}]'")


def test_server_refuses_custom_workflows_and_unknown_ones(repo_cfg, server_cfg):
    planted = copy.deepcopy(repo_cfg)
    planted["workflows"] = {"mine": {"apply": {"steps": ["apply"]}}}
    assert "not allowed to define custom workflows" in validate_repo_cfg(
        planted, server_cfg, REPO_ID)
    planted = copy.deepcopy(repo_cfg)
    planted["projects"][0]["workflow"] = "mine"
    assert validate_repo_cfg(planted, server_cfg, REPO_ID).startswith(
        "repo config not allowed to set 'workflow' key")
    # Were the key allowed, an unknown workflow would still be refused.
    allowing = copy.deepcopy(server_cfg)
    allowing["repos"][0]["allowed_overrides"] = ["workflow"]
    assert validate_repo_cfg(planted, allowing, REPO_ID) == 'workflow "mine" is not defined anywhere'


def test_another_repository_gets_nothing(repo_cfg, server_cfg):
    # Atlantis' default repo allows no override and knows no `stack` workflow.
    planted = copy.deepcopy(repo_cfg)
    planted["projects"][0]["workflow"] = "stack"
    assert validate_repo_cfg(planted, server_cfg, "github.com/someone/else") == (
        "repo config not allowed to set 'workflow' key: server-side config needs "
        "'allowed_overrides: [workflow]'")


def test_apply_requires_review_server_side(repo_cfg, our_repo):
    assert set(our_repo["apply_requirements"]) == {"approved", "mergeable", "undiverged"}
    assert our_repo["import_requirements"] == our_repo["apply_requirements"]
    assert our_repo["allow_custom_workflows"] is False
    assert not [p for p in repo_cfg["projects"] if "apply_requirements" in p]


def test_checkout_strategy_makes_undiverged_meaningful(flags, our_repo):
    # In branch mode HasDiverged is always false (server/events/working_dir.go).
    if "undiverged" in our_repo["apply_requirements"]:
        assert flags["ATLANTIS_CHECKOUT_STRATEGY"] == "merge"


def test_ui_and_api_need_authentication(flags, containers):
    assert flags["ATLANTIS_WEB_BASIC_AUTH"] == "true"
    secrets = {s["name"]: s["valueFrom"] for s in containers["atlantis"]["secrets"]}
    credentials = "${data.aws_ssm_parameter.from-secrets-atlantis-web-credentials-arn.insecure_value}"
    assert secrets["ATLANTIS_WEB_USERNAME"] == f"{credentials}:username::"
    assert secrets["ATLANTIS_WEB_PASSWORD"] == f"{credentials}:password::"
    assert "ATLANTIS_WEB_PASSWORD" not in flags


def _rules(atlantis):
    rules = []
    for body in resources(atlantis, "aws_lb_listener_rule").values():
        conditions = {}
        for condition in body["condition"]:
            for kind in ("path_pattern", "source_ip", "host_header"):
                if condition.get(kind):
                    conditions[kind] = condition[kind]["values"]
        rules.append((body["priority"], conditions, body["action"]))
    return sorted(rules, key=lambda r: r[0])


def test_only_github_reaches_events_and_nobody_else_reaches_the_ui(atlantis):
    listener = next(b for b in resources(atlantis, "aws_lb_listener").values()
                    if b["port"] == 443)
    assert [a["type"] for a in listener["default_action"]] == ["fixed-response"]
    rules = _rules(atlantis)
    open_rules = [c for _, c, _ in rules if "source_ip" not in c]
    assert open_rules == [{"path_pattern": ["/healthz"]}]
    events = [c for _, c, _ in rules if c.get("path_pattern") == ["/events"]]
    assert {cidr for c in events for cidr in c["source_ip"]} == set(SETTINGS.github.hook_cidrs)
    for _, conditions, _ in rules:
        assert sum(len(v) for v in conditions.values()) <= 5  # the ALB's quota per rule
    # No operator ranges in prod's settings: no other rule forwards anything.
    assert len(rules) == 1 + len(events)
    assert SETTINGS.atlantis.operator_cidrs == ()


def test_github_hook_ranges_are_dated_and_sourced():
    assert GITHUB_HOOK_RANGES.ipv4, "no webhook would reach Atlantis"
    assert date.fromisoformat(GITHUB_HOOK_RANGES.read_on) <= date.today()
    assert "https://api.github.com/meta" in GITHUB_HOOK_RANGES.sources
    assert SETTINGS.github.hook_cidrs == GITHUB_HOOK_RANGES.ipv4


def test_comment_commands_come_from_the_team_allowlist(flags):
    pairs = [tuple(p.split(":")) for p in flags["ATLANTIS_GH_TEAM_ALLOWLIST"].split(",")]
    assert pairs == list(SETTINGS.atlantis.team_allowlist)
    assert ("platform-team", "apply") in pairs
    assert not [team for team, _ in pairs if team == "*"]
    assert flags["ATLANTIS_HIDE_PREV_PLAN_COMMENTS"] == "true"


def test_image_is_the_pinned_release(containers):
    for container in containers.values():
        assert container["image"] == f"ghcr.io/runatlantis/atlantis:{ATLANTIS_VERSION}"
    major, minor, _ = map(int, re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", ATLANTIS_VERSION).groups())
    assert (major, minor) >= (0, 42), "the fix of runatlantis/atlantis#5791 is in v0.42.0"


def _env_steps(steps):
    return [s["env"] for s in steps if isinstance(s, dict) and "env" in s]


def test_atlantis_applies_its_own_stack_without_rolling_its_task(atlantis, repo_cfg, server_cfg):
    # A new task definition is registered, but the service keeps the running
    # revision: the apply that registered it is not stopped under Atlantis' feet.
    service = one(atlantis, "aws_ecs_service")
    assert service["lifecycle"]["ignore_changes"] == ["task_definition"]
    assert (service["deployment_minimum_healthy_percent"],
            service["deployment_maximum_percent"]) == (0, 100)
    assert not [p for p in repo_cfg["projects"] if "workflow" in p]
    assert server_cfg["repos"][0]["workflow"] == "stack"
    assert set(server_cfg["workflows"]) == {"stack"}


def _selected_profile(step: dict, repo_rel_dir: str) -> str:
    """What the `env` step's command prints for a project dir, run as Atlantis runs it
    (`sh -c` with REPO_REL_DIR set; env_step_runner.go trims the trailing newline)."""
    result = subprocess.run(["sh", "-c", step["command"]], env={"REPO_REL_DIR": repo_rel_dir},
                            capture_output=True, text=True, check=True)
    return result.stdout.removesuffix("\n")


def test_every_project_plans_and_applies_as_its_own_environments_roles(server_cfg, repo_cfg):
    stack = server_cfg["workflows"]["stack"]
    plan, apply = stack["plan"]["steps"], stack["apply"]["steps"]
    assert plan[-2:] == ["init", "plan"] and apply[-1] == "apply"
    for kind, steps in (("plan", plan), ("apply", apply)):
        [step] = _env_steps(steps)
        assert step["name"] == "AWS_PROFILE" and "value" not in step
        # The profile follows the project's directory, whatever the project is called.
        for project in repo_cfg["projects"]:
            environment = project["dir"].split("/")[1]
            assert project["name"].startswith(f"{environment}-")
            assert _selected_profile(step, project["dir"]) == profile_name(environment, kind)
        assert _selected_profile(step, "cdktf.out/elsewhere/stacks/kms") == \
            f"elsewhere-atlantis-{kind}"


def test_the_profiles_assume_each_environments_roles_in_its_account(server_cfg):
    # The first step writes one profile per environment the server plans and role; each
    # assumes its role from the task's own credentials (the ECS container endpoint).
    served = [s for s in load_environments() if s.name == SETTINGS.name
              or s.planned_by == SETTINGS.name]
    assert {s.name for s in served} == {"prod", "staging"}
    for steps in (server_cfg["workflows"]["stack"][k]["steps"] for k in ("plan", "apply")):
        command = steps[0]["run"]["command"]
        written = re.findall(r"'\[profile ([\w-]+)\]'", command)
        assert sorted(written) == sorted(profile_name(s.name, kind) for s in served
                                         for kind in ("plan", "apply"))
        for settings in served:
            for kind in ("plan", "apply"):
                if settings.name == SETTINGS.name:
                    arn = (f"${{data.aws_ssm_parameter.from-bootstrap-atlantis-{kind}-role-arn"
                           ".insecure_value}")
                else:
                    arn = (f"arn:${{data.aws_partition.partition.partition}}:iam::"
                           f"{settings.account_id}:role/{settings.name}-atlantis-{kind}")
                assert (f"'[profile {profile_name(settings.name, kind)}]' 'role_arn = {arn}' "
                        "'credential_source = EcsContainer'") in command
        assert command.endswith('> "$HOME/.aws/config.$$" && mv "$HOME/.aws/config.$$" '
                                '"$HOME/.aws/config"')


def test_the_task_may_assume_exactly_the_served_environments_roles(atlantis):
    document = policy_at(atlantis, "atlantis/task-role/policy-terraform-roles-document")
    (statement,) = statements(document).values()
    assert statement["sid"] == "AssumePlanAndApplyRoles"
    assert statement["actions"] == ["sts:AssumeRole"]
    staging = "arn:${data.aws_partition.partition.partition}:iam::222222222222:role/staging"
    assert statement["resources"] == [
        f"{staging}-atlantis-plan", f"{staging}-atlantis-apply",
        "${data.aws_ssm_parameter.from-bootstrap-atlantis-plan-role-arn.insecure_value}",
        "${data.aws_ssm_parameter.from-bootstrap-atlantis-apply-role-arn.insecure_value}"]


def test_the_stacks_name_no_role(stack_json):
    # So an engineer plans and applies by hand with their own credentials.
    from stacks.registry import STACK_NAMES
    for name in STACK_NAMES:
        doc = stack_json(name)
        assert "assume_role" not in json.dumps(doc["terraform"]["backend"]), name
        for provider in doc["provider"]["aws"]:
            assert "assume_role" not in provider and "profile" not in provider, name
