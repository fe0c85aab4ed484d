"""EcrRepository: immutable, scan on push, CMK, lifecycle policy, pull grants."""

from __future__ import annotations

import json

import pytest
from cdktf import TerraformOutput

from constructs_lib import ecr
from constructs_lib.ecr import EcrRepository, EcrRepositoryProps
from constructs_lib.errors import ConfigError
from constructs_lib.refs import KeyRef, RoleRef
from tests.unit.synth_helpers import governance_findings

KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/ecr")
ROLE = RoleRef(arn="arn:aws:iam::123456789012:role/prod-atlantis-execution",
               name="prod-atlantis-execution")


def props(tags, **overrides) -> EcrRepositoryProps:
    values = {"name": "prod-atlantis", "tags": tags, "kms_key": KEY}
    values.update(overrides)
    return EcrRepositoryProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags):
    stack = make_stack()
    repo = EcrRepository(stack, "atlantis", props(tags))
    repo.grant_pull(ROLE, id="execution")
    TerraformOutput(stack, "url", value=repo.url)
    return repo, synth(stack)


def _one(section):
    assert len(section) == 1, list(section)
    return next(iter(section.values()))


def test_repository_is_immutable_scanned_and_encrypted(synthesized, tags):
    _, doc = synthesized
    repo = _one(doc["resource"]["aws_ecr_repository"])
    assert repo["name"] == "prod-atlantis"
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    assert repo["encryption_configuration"] == [{"encryption_type": "KMS", "kms_key": KEY.arn}]
    assert repo["force_delete"] is False
    assert repo["tags"] == tags.resource_tags("prod-atlantis")


def test_lifecycle_policy(synthesized):
    _, doc = synthesized
    policy = _one(doc["resource"]["aws_ecr_lifecycle_policy"])
    rules = {rule["selection"]["tagStatus"]: rule for rule in json.loads(policy["policy"])["rules"]}
    assert rules["untagged"]["selection"]["countType"] == "sinceImagePushed"
    assert rules["untagged"]["selection"]["countNumber"] == 14
    assert rules["any"]["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan",
                                         "countNumber": 30}
    # ECR requires the catch-all rule to be evaluated last.
    assert rules["any"]["rulePriority"] > rules["untagged"]["rulePriority"]
    assert policy["policy"] == json.dumps(json.loads(policy["policy"]), sort_keys=True)


def test_grant_pull(synthesized):
    _, doc = synthesized
    [(address, attached)] = doc["resource"]["aws_iam_role_policy"].items()
    assert address.startswith("atlantis_pull-execution_")
    assert attached["name"] == "prod-atlantis-pull-execution"
    assert attached["role"] == ROLE.name
    statements = {s["sid"]: s for s in _one(doc["data"]["aws_iam_policy_document"])["statement"]}
    assert statements["PullImages"]["actions"] == [
        "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert statements["PullImages"]["resources"][0].startswith("${aws_ecr_repository.")
    assert statements["GetRegistryToken"]["actions"] == ["ecr:GetAuthorizationToken"]


def test_url(synthesized):
    _, doc = synthesized
    assert doc["output"]["url"]["value"].endswith(".repository_url}")


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props, the repository leaves no governance finding."""
    EcrRepository(stack, "atlantis", props(tags))
    assert governance_findings(stack) == []


def test_second_grant_needs_its_own_id(stack, tags):
    repo = EcrRepository(stack, "repo", props(tags))
    repo.grant_pull(ROLE, id="execution")
    with pytest.raises(ConfigError) as error:
        repo.grant_pull(ROLE, id="execution")
    assert "unit/repo: grant_pull id is 'execution'" in str(error.value)
    repo.grant_pull(ROLE, id="ci")


def test_grant_addresses_depend_on_the_ids_not_the_call_order(make_stack, synth, tags):
    def addresses(ids):
        stack = make_stack()
        repo = EcrRepository(stack, "repo", props(tags))
        for grant_id in ids:
            repo.grant_pull(ROLE, id=grant_id)
        return {k: v["name"] for k, v in synth(stack)["resource"]["aws_iam_role_policy"].items()}

    assert addresses(["ci", "execution"]) == addresses(["execution", "ci"])


@pytest.mark.parametrize(("grant", "fragment"), [
    ({"role": ROLE, "id": "Pull_CI"}, "grant_pull id is 'Pull_CI'"),
    ({"role": ROLE.arn, "id": "ci"}, "grant_pull grantee is 'arn:aws:iam::"),
])
def test_rejects_bad_grants(stack, tags, grant, fragment):
    repo = EcrRepository(stack, "repo", props(tags))
    with pytest.raises(ConfigError, match=fragment):
        repo.grant_pull(grant["role"], id=grant["id"])


def test_pull_policy_is_validated(stack, tags, monkeypatch):
    """The grant's statements go through check_statements like every policy."""
    monkeypatch.setattr(ecr, "PULL_ACTIONS", ("ecr BatchGetImage",))
    repo = EcrRepository(stack, "repo", props(tags))
    with pytest.raises(ConfigError) as error:
        repo.grant_pull(ROLE, id="ci")
    assert ("unit/repo: grant_pull statements[0].actions is 'ecr BatchGetImage'"
            in str(error.value))


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("name", "atlantis", "starting with 'prod-'"),
    ("name", "prod/Atlantis", "kebab-case"),
    ("keep_last_images", 0, "1 to 1000"),
    ("untagged_expiry_days", 0, "1 to 365"),
])
def test_rejects_bad_props(stack, tags, field, value, fragment):
    with pytest.raises(ConfigError) as error:
        EcrRepository(stack, "bad", props(tags, **{field: value}))
    message = str(error.value)
    assert "unit/bad" in message
    assert field in message
    assert repr(value) in message
    assert fragment in message
