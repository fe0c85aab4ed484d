"""CloudwatchLogGroup: CMK, retention, name forms, errors."""

from __future__ import annotations

import pytest

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.errors import ConfigError
from constructs_lib.refs import KeyRef, LogGroupRef
from tests.unit.synth_helpers import assert_resource, governance_findings, matchable, one_under

KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/logs")


def props(tags, **overrides) -> CloudwatchLogGroupProps:
    values = {"name": "/aws/ecs/atlantis/application", "tags": tags, "kms_key": KEY}
    values.update(overrides)
    return CloudwatchLogGroupProps(**values)


@pytest.fixture(scope="module")
def built(make_stack, synth, tags):
    stack = make_stack()
    app = CloudwatchLogGroup(stack, "app", props(tags))
    CloudwatchLogGroup(stack, "audit", props(tags, name="prod-audit", retention_in_days=3653))
    CloudwatchLogGroup(stack, "dns", props(tags, name="/aws/route53/set-of.com"))
    CloudwatchLogGroup(stack, "debug", props(tags, name="/prod/debug", retention_in_days=30,
                                             short_retention_reason="debug output, no audit data"))
    return app, synth(stack), matchable(stack)


def test_encrypted_with_default_retention(built, tags):
    _, doc, received = built
    assert_resource(received, "aws_cloudwatch_log_group", {
        "name": "/aws/ecs/atlantis/application", "kms_key_id": KEY.arn,
        "retention_in_days": 365})
    app = one_under(doc, "aws_cloudwatch_log_group", "app")
    assert app["name"] == "/aws/ecs/atlantis/application"
    assert app["tags"] == tags.resource_tags("aws-ecs-atlantis-application")
    assert "//" not in app or "waivers" not in app["//"]


def test_kebab_and_dotted_names(built):
    _, doc, received = built
    assert_resource(received, "aws_cloudwatch_log_group",
                    {"name": "prod-audit", "retention_in_days": 3653})
    assert one_under(doc, "aws_cloudwatch_log_group", "audit")["name"] == "prod-audit"
    assert one_under(doc, "aws_cloudwatch_log_group", "dns")["name"] == "/aws/route53/set-of.com"


def test_short_retention_is_a_recorded_waiver(built):
    _, doc, _ = built
    debug = one_under(doc, "aws_cloudwatch_log_group", "debug")
    assert debug["retention_in_days"] == 30
    # Waivers live in the `//` block, which Testing.synth drops.
    assert debug["//"]["waivers"]["CKV_AWS_338"] == "debug output, no audit data"


def test_ref(built):
    app, _, _ = built
    assert isinstance(app.ref, LogGroupRef)
    assert app.ref.name == "/aws/ecs/atlantis/application"


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props, the log group leaves no governance finding."""
    CloudwatchLogGroup(stack, "app", props(tags))
    assert governance_findings(stack) == []


@pytest.mark.parametrize("field, value, shown, allowed", [
    ("name", "/var/log/app", "'/var/log/app'", "allowed is a path '/aws/...' or '/prod/...'"),
    ("name", "/aws/ECS/app", "'/aws/ECS/app'", "kebab-case segments"),
    ("name", "app-logs", "'app-logs'", "starting with 'prod-'"),
    ("retention_in_days", 42, "42", "allowed is one of (1, 3,"),
    ("retention_in_days", 90, "90", "below 365 needs short_retention_reason"),
    ("kms_key", "alias/aws/logs", "'alias/aws/logs'", "allowed is a KeyRef"),
    ("short_retention_reason", "tmp", "'tmp'", "at least 10 characters"),
])
def test_rejects_bad_props(stack, tags, field, value, shown, allowed):
    with pytest.raises(ConfigError) as err:
        CloudwatchLogGroup(stack, "bad", props(tags, **{field: value}))
    assert f"unit/bad: {field} is {shown}; " in str(err.value)
    assert allowed in str(err.value)
    assert stack.node.try_find_child("bad").node.children == []
