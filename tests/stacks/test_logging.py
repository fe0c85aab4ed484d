"""logging stack: three central log groups, encrypted with the logs key, each
with its retention; names and ARNs to SSM; reads only from earlier phases."""

from __future__ import annotations

import pytest

from stacks.registry import spec_of
from tests.stacks.synth_json import by_name, producers, published, reads

LOGS_KEY = "${data.aws_ssm_parameter.from-kms-logs-key-arn.insecure_value}"


@pytest.fixture(scope="module")
def logging_stack(stack_json):
    return stack_json("logging")


def test_three_central_log_groups_encrypted_with_the_logs_key(logging_stack):
    groups = by_name(logging_stack, "aws_cloudwatch_log_group")
    assert sorted(groups) == ["/prod/central/application", "/prod/central/infrastructure",
                              "/prod/central/security"]
    assert {g["kms_key_id"] for g in groups.values()} == {LOGS_KEY}


def test_retention_fits_what_each_group_holds(logging_stack):
    groups = by_name(logging_stack, "aws_cloudwatch_log_group")
    assert groups["/prod/central/security"]["retention_in_days"] == 731
    assert groups["/prod/central/infrastructure"]["retention_in_days"] == 365
    application = groups["/prod/central/application"]
    assert application["retention_in_days"] == 90
    # The short retention is a recorded, reasoned waiver of checkov's 1-year check.
    assert "quarter" in application["//"]["waivers"]["CKV_AWS_338"]
    assert all("waivers" not in groups[name]["//"]
               for name in ("/prod/central/security", "/prod/central/infrastructure"))


def test_publishes_names_and_arns(logging_stack):
    parameters = published(logging_stack)
    for purpose in ("application", "infrastructure", "security"):
        assert parameters[f"/prod/logging/{purpose}-log-group-name"].endswith(".name}")
        arn = parameters[f"/prod/logging/{purpose}-log-group-arn"]
        assert arn.startswith("${aws_cloudwatch_log_group.") and arn.endswith(".arn}")
    assert len(parameters) == 6


def test_reads_only_from_earlier_phases(logging_stack):
    assert reads(logging_stack) == ["/prod/kms/logs-key-arn"]
    phase = spec_of("logging").phase.number
    assert all(spec_of(producer).phase.number < phase for producer in producers(logging_stack))


def test_state_backend(logging_stack):
    assert logging_stack["terraform"]["backend"]["s3"]["key"] == "logging/terraform.tfstate"
