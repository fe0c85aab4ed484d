"""CloudwatchLogGroup: CMK, retention, name forms, errors."""

from __future__ import annotations

import pytest

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.errors import ConfigError
from constructs_lib.refs import KeyRef, LogGroupRef

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
    groups = synth(stack)["resource"]["aws_cloudwatch_log_group"]
    return app, {k.split("_")[0]: v for k, v in groups.items()}


def test_encrypted_with_default_retention(built, tags):
    _, groups = built
    app = groups["app"]
    assert app["name"] == "/aws/ecs/atlantis/application"
    assert app["kms_key_id"] == KEY.arn
    assert app["retention_in_days"] == 365
    assert app["tags"] == tags.resource_tags("aws-ecs-atlantis-application")
    assert "//" not in app or "waivers" not in app["//"]


def test_kebab_and_dotted_names(built):
    _, groups = built
    assert groups["audit"]["name"] == "prod-audit"
    assert groups["audit"]["retention_in_days"] == 3653
    assert groups["dns"]["name"] == "/aws/route53/set-of.com"


def test_short_retention_is_a_recorded_waiver(built):
    _, groups = built
    assert groups["debug"]["retention_in_days"] == 30
    assert groups["debug"]["//"]["waivers"]["CKV_AWS_338"] == "debug output, no audit data"


def test_ref(built):
    app, _ = built
    assert isinstance(app.ref, LogGroupRef)
    assert app.ref.name == "/aws/ecs/atlantis/application"


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
