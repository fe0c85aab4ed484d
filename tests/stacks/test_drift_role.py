"""The role the drift workflow assumes (bootstrap's `<env>-github-actions`) cannot apply:
read-only permissions, and a trust that names only drift.yml on the default branch, run
by its schedule or by hand. Read from the synthesized JSON and the workflow file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from policy_sentry.querying.actions import get_action_data

from scripts.environment_matrix import matrix as environment_matrix
from stacks.github_oidc import DRIFT_EVENTS, DRIFT_WORKFLOW, SUB_CLAIM_KEYS
from tests.stacks.synth_json import at_path, attachments, conditions, policy_at

REPO = Path(__file__).resolve().parents[2]
ROLE = "bootstrap/github-actions-role"
READ_ONLY_ACCESS = "arn:aws:iam::aws:policy/ReadOnlyAccess"
CONFIGURE_AWS = "aws-actions/configure-aws-credentials"
EXPECTED_SUBJECTS = [
    "repo:connectly/infrastructure:ref:refs/heads/main:job_workflow_ref:"
    f"connectly/infrastructure/.github/workflows/drift.yml@refs/heads/main:event_name:{event}"
    for event in ("schedule", "workflow_dispatch")]


@pytest.fixture(scope="module")
def boot(stack_json):
    return stack_json("bootstrap")


@pytest.fixture(scope="module")
def role_name(boot) -> str:
    return at_path(boot, "resource", "aws_iam_role", f"{ROLE}/role")["name"]


@pytest.fixture(scope="module")
def inline(boot) -> list[dict]:
    """Every statement of the role's inline policies."""
    return [statement for key in ("terraform-state", "reads-beyond-read-only")
            for statement in policy_at(boot, f"{ROLE}/policy-{key}-document")["statement"]]


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load((REPO / DRIFT_WORKFLOW).read_text())


def access_levels(action: str) -> set[str]:
    """AWS's access level of an IAM action, from policy_sentry's copy of the Service
    Authorization Reference: Read, List, Write, Permissions management or Tagging."""
    service, name = action.split(":")
    found = get_action_data(service, name)
    assert found and found.get(service), f"{action} is not an IAM action"
    return {entry["access_level"] for entry in found[service]}


def test_its_only_managed_policy_is_read_only_access(boot, role_name):
    assert [a["policy_arn"] for a in attachments(boot, role_name)] == [READ_ONLY_ACCESS]
    policies = boot["resource"]["aws_iam_role_policy"].values()
    assert sorted(p["name"] for p in policies if p["name"].startswith(role_name)) == [
        f"{role_name}-reads-beyond-read-only", f"{role_name}-terraform-state"]


def test_its_inline_policies_allow_no_write_of_any_service(inline):
    assert all(s["effect"] == "Allow" for s in inline)
    actions = [a for s in inline for a in s["actions"]]
    assert not [a for a in actions if "*" in a]
    # kms:Decrypt is "Write" in AWS's classification, yet changes nothing: reading a
    # state object encrypted with the state key needs it. It is allowed on that key only.
    writes = {a for a in actions if access_levels(a) - {"Read", "List"}}
    assert writes == {"kms:Decrypt"}
    (decrypt,) = [s for s in inline if "kms:Decrypt" in s["actions"]]
    assert len(decrypt["resources"]) == 1
    assert decrypt["resources"][0].startswith("${aws_kms_key.state-key")


def test_it_writes_neither_the_state_nor_the_lock(inline):
    # The drift plan runs with -lock=false; ReadOnlyAccess reads the state objects.
    actions = {a for s in inline for a in s["actions"]}
    assert not actions & {"s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem",
                          "dynamodb:DeleteItem", "kms:Encrypt", "kms:GenerateDataKey"}
    assert not [r for s in inline for r in s["resources"]
                if r.startswith(("${aws_s3_bucket.", "${aws_dynamodb_table."))]


def test_it_reads_what_the_atlantis_plan_role_reads_without_the_lock(boot, inline):
    plan = [statement for key in ("terraform-state", "reads-beyond-read-only") for statement
            in policy_at(boot, f"bootstrap/atlantis-plan-role/policy-{key}-document")[
                "statement"]]
    assert [s for s in plan if s["sid"] != "LockState"] == inline
    [plan_attachment] = attachments(boot, "prod-atlantis-plan")
    assert plan_attachment["policy_arn"] == READ_ONLY_ACCESS


def test_its_trust_names_only_the_drift_workflow_its_branch_and_events(boot):
    trust = policy_at(boot, f"{ROLE}/trust-policy")
    (statement,) = trust["statement"]
    assert statement["effect"] == "Allow"
    assert statement["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["principals"] == [{
        "type": "Federated", "identifiers": ["${aws_iam_openid_connect_provider.github-oidc.arn}"]}]
    assert conditions(statement) == {
        ("StringEquals", "token.actions.githubusercontent.com:aud"): ["sts.amazonaws.com"],
        ("StringEquals", "token.actions.githubusercontent.com:sub"): EXPECTED_SUBJECTS,
    }


def test_the_workflow_runs_on_exactly_the_trusted_events(workflow):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    triggers = workflow.get("on", workflow.get(True))
    assert sorted(triggers) == sorted(DRIFT_EVENTS)


def test_the_workflow_assumes_exactly_that_role_in_each_environments_account(
        workflow, env_stack_json):
    uses = [(name, step) for name, job in workflow["jobs"].items() for step in job["steps"]
            if step.get("uses", "").startswith(f"{CONFIGURE_AWS}@")]
    assert len(uses) == 1, f"one step assumes the role, not {len(uses)}"
    ((job, step),) = uses
    # One leg per environment of scripts/environment_matrix.py, each in its own account.
    assert step["with"]["role-to-assume"] == (
        "arn:aws:iam::${{ matrix.account_id }}:role/${{ matrix.environment }}-github-actions")
    assert workflow["jobs"][job]["strategy"]["matrix"]["include"] == (
        "${{ fromJSON(needs.environments.outputs.matrix) }}")
    for leg in environment_matrix():
        boot = env_stack_json(leg["environment"], "bootstrap")
        role = at_path(boot, "resource", "aws_iam_role", f"{ROLE}/role")["name"]
        assert role == f"{leg['environment']}-github-actions"
        assert boot["provider"]["aws"][0]["allowed_account_ids"] == [leg["account_id"]]
    assert workflow["jobs"][job]["permissions"] == {"contents": "read", "id-token": "write"}
    assert workflow["permissions"] == {}


def test_the_readme_customizes_the_subject_as_the_trust_expects():
    readme = (REPO / "README.md").read_text()
    keys = ",".join(f'"{key}"' for key in SUB_CLAIM_KEYS)
    assert f'"include_claim_keys":[{keys}]' in readme
    assert "actions/oidc/customization/sub" in readme
