"""cloudtrail stack: the multi-Region trail with its bucket, log group and role,
Athena and Glue over the trail logs, and the security-event rules."""

from __future__ import annotations

import json

import pytest

from stacks.registry import spec_of
from tests.stacks.synth_json import (
    address,
    by_name,
    one,
    policy,
    producers,
    published,
    reads,
    ref,
    resources,
    statements,
)

CLOUDTRAIL_KEY = "${data.aws_ssm_parameter.from-kms-cloudtrail-key-arn.insecure_value}"
LOGS_KEY = "${data.aws_ssm_parameter.from-kms-logs-key-arn.insecure_value}"
SNS_KEY = "${data.aws_ssm_parameter.from-kms-sns-key-arn.insecure_value}"
ACCOUNT = "${data.aws_caller_identity.account.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"
TRAIL_ARN = f"arn:{PARTITION}:cloudtrail:ap-northeast-2:{ACCOUNT}:trail/prod-trail"
HOME_BUS = f"arn:{PARTITION}:events:ap-northeast-2:{ACCOUNT}:event-bus/default"


@pytest.fixture(scope="module")
def cloudtrail(stack_json):
    return stack_json("cloudtrail")


def test_multi_region_trail(cloudtrail):
    trail = one(cloudtrail, "aws_cloudtrail")
    assert trail["name"] == "prod-trail"
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["enable_logging"] is True
    assert trail["kms_key_id"] == CLOUDTRAIL_KEY
    bucket = address(cloudtrail, "aws_s3_bucket", bucket="prod-connectly-cloudtrail")
    assert trail["s3_bucket_name"] == ref(bucket)


def test_trail_delivers_to_its_log_group_through_its_role(cloudtrail):
    trail = one(cloudtrail, "aws_cloudtrail")
    group = by_name(cloudtrail, "aws_cloudwatch_log_group")["/aws/cloudtrail/prod-trail"]
    assert group["kms_key_id"] == LOGS_KEY
    assert group["retention_in_days"] == 365
    group_address = address(cloudtrail, "aws_cloudwatch_log_group",
                            name="/aws/cloudtrail/prod-trail")
    assert trail["cloud_watch_logs_group_arn"] == f"{ref(group_address, 'arn')}:*"
    role_address = address(cloudtrail, "aws_iam_role", name="prod-cloudtrail-logs")
    assert trail["cloud_watch_logs_role_arn"] == ref(role_address, "arn")

    role = by_name(cloudtrail, "aws_iam_role")["prod-cloudtrail-logs"]
    (trust,) = policy(cloudtrail, role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service",
                                    "identifiers": ["cloudtrail.amazonaws.com"]}]
    # CloudTrail documents that this role does not support aws:SourceAccount or
    # aws:SourceArn (cloudtrail-required-policy-for-cloudwatch-logs.html).
    assert "condition" not in trust
    inline = by_name(cloudtrail, "aws_iam_role_policy")["prod-cloudtrail-logs-deliver-logs"]
    (statement,) = policy(cloudtrail, inline["policy"])["statement"]
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["resources"] == [f"{ref(group_address, 'arn')}:log-stream:*"]


def test_trail_without_log_file_notifications_is_a_recorded_waiver(cloudtrail):
    trail = one(cloudtrail, "aws_cloudtrail")
    assert "sns_topic_name" not in trail
    assert "EventBridge" in trail["//"]["waivers"]["CKV_AWS_252"]


def test_trail_waits_for_the_bucket_policy_and_role_policy(cloudtrail):
    depends_on = one(cloudtrail, "aws_cloudtrail")["depends_on"]
    assert any(d.startswith("aws_s3_bucket_policy.trail-bucket") for d in depends_on)
    assert any(d.startswith("aws_iam_role_policy.trail-logs-role") for d in depends_on)


def test_bucket_policy_lets_only_this_trail_write(cloudtrail):
    bucket_policy = by_name(cloudtrail, "aws_s3_bucket_policy", "bucket")
    reference = next(p["policy"] for b, p in bucket_policy.items() if "trail-bucket" in b)
    found = statements(policy(cloudtrail, reference))
    assert found["DenyInsecureTransport"]["effect"] == "Deny"
    bucket_arn = f"arn:{PARTITION}:s3:::prod-connectly-cloudtrail"
    acl = found["CloudTrailAclCheck"]
    assert acl["actions"] == ["s3:GetBucketAcl"] and acl["resources"] == [bucket_arn]
    write = found["CloudTrailWrite"]
    assert write["actions"] == ["s3:PutObject"]
    assert write["resources"] == [f"{bucket_arn}/AWSLogs/{ACCOUNT}/*"]
    for statement in (acl, write):
        assert statement["principals"] == [{"type": "Service",
                                            "identifiers": ["cloudtrail.amazonaws.com"]}]
        assert {"test": "StringEquals", "variable": "aws:SourceArn",
                "values": [TRAIL_ARN]} in statement["condition"]
    assert {"test": "StringEquals", "variable": "s3:x-amz-acl",
            "values": ["bucket-owner-full-control"]} in write["condition"]


def test_buckets_are_encrypted_with_the_cloudtrail_key_and_kept(cloudtrail):
    buckets = by_name(cloudtrail, "aws_s3_bucket", "bucket")
    assert set(buckets) == {"prod-connectly-cloudtrail", "prod-connectly-cloudtrail-athena-results"}
    for bucket in buckets.values():
        assert bucket["lifecycle"] == {"prevent_destroy": True}
        assert "force_destroy" not in bucket
    for encryption in resources(cloudtrail,
                                "aws_s3_bucket_server_side_encryption_configuration").values():
        (rule,) = encryption["rule"]
        assert rule["apply_server_side_encryption_by_default"] == {
            "sse_algorithm": "aws:kms", "kms_master_key_id": CLOUDTRAIL_KEY}


def test_athena_workgroup_encrypts_results_with_kms(cloudtrail):
    workgroup = one(cloudtrail, "aws_athena_workgroup")
    assert workgroup["name"] == "prod-cloudtrail"
    assert workgroup["tags"]["Name"] == "prod-cloudtrail"
    configuration = workgroup["configuration"]
    assert configuration["enforce_workgroup_configuration"] is True
    assert configuration["publish_cloudwatch_metrics_enabled"] is True
    assert configuration["bytes_scanned_cutoff_per_query"] == 10 * 1024**3
    result = configuration["result_configuration"]
    results_bucket = address(cloudtrail, "aws_s3_bucket",
                             bucket="prod-connectly-cloudtrail-athena-results")
    assert result["output_location"] == f"s3://{ref(results_bucket, 'bucket')}/results/"
    assert result["encryption_configuration"] == {"encryption_option": "SSE_KMS",
                                                  "kms_key_arn": CLOUDTRAIL_KEY}


def test_glue_table_over_the_trail_logs_with_partition_projection(cloudtrail):
    database = one(cloudtrail, "aws_glue_catalog_database")
    assert database["name"] == "prod_cloudtrail"
    table = one(cloudtrail, "aws_glue_catalog_table")
    assert table["name"] == "prod_cloudtrail_logs"
    assert table["database_name"] == "${aws_glue_catalog_database.glue-database.name}"
    assert table["table_type"] == "EXTERNAL_TABLE"
    storage = table["storage_descriptor"]
    assert storage["input_format"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert storage["ser_de_info"]["serialization_library"] == \
        "com.amazon.emr.hive.serde.CloudTrailSerde"
    columns = {c["name"] for c in storage["columns"]}
    assert {"eventtime", "eventsource", "eventname", "useridentity", "sourceipaddress",
            "errorcode", "requestparameters", "awsregion", "recipientaccountid"} <= columns
    trail_bucket = address(cloudtrail, "aws_s3_bucket", bucket="prod-connectly-cloudtrail")
    logs = f"s3://{ref(trail_bucket, 'bucket')}/AWSLogs/{ACCOUNT}/CloudTrail"
    assert storage["location"] == f"{logs}/"
    assert [k["name"] for k in table["partition_keys"]] == ["region", "date"]
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.date.format"] == "yyyy/MM/dd"
    # `$${` is Terraform's escape: Athena receives the literal `${region}`.
    assert parameters["storage.location.template"] == f"{logs}/$${{region}}/$${{date}}"
    assert "data.aws_regions.regions.names" in parameters["projection.region.values"]


def test_security_event_rules_report_to_the_security_topic(cloudtrail):
    topic = one(cloudtrail, "aws_sns_topic")
    assert topic["name"] == "prod-security-events"
    assert topic["kms_master_key_id"] == SNS_KEY
    home = {name: rule for name, rule in by_name(cloudtrail, "aws_cloudwatch_event_rule").items()
            if "provider" not in rule}
    assert sorted(home) == ["prod-cloudtrail-tampering", "prod-console-sign-in-failures",
                            "prod-iam-policy-changes", "prod-root-account-usage"]
    topic_address = address(cloudtrail, "aws_sns_topic", name="prod-security-events")
    targets = [t for t in resources(cloudtrail, "aws_cloudwatch_event_target").values()
               if "provider" not in t]
    assert len(targets) == 4
    assert {t["arn"] for t in targets} == {ref(topic_address, "arn")}


def test_security_topic_accepts_only_eventbridge(cloudtrail):
    document = policy(cloudtrail, one(cloudtrail, "aws_sns_topic_policy")["policy"])
    publishers = [s for s in document["statement"] if s.get("sid") == "ServicesPublish"]
    assert publishers[0]["principals"] == [{"type": "Service",
                                            "identifiers": ["events.amazonaws.com"]}]
    (subscription,) = resources(cloudtrail, "aws_sns_topic_subscription").values()
    assert subscription["endpoint"] == "platform@example.com"


def test_security_event_patterns(cloudtrail):
    patterns = {name: json.loads(rule["event_pattern"])
                for name, rule in by_name(cloudtrail, "aws_cloudwatch_event_rule").items()}
    root = patterns["prod-root-account-usage"]
    assert root["detail"]["userIdentity"]["type"] == ["Root"]
    iam = patterns["prod-iam-policy-changes"]
    assert iam["source"] == ["aws.iam"]
    assert {"PutRolePolicy", "AttachRolePolicy", "CreatePolicyVersion"} <= set(
        iam["detail"]["eventName"])
    sign_in = patterns["prod-console-sign-in-failures"]
    assert sign_in["detail"]["responseElements"] == {"ConsoleLogin": ["Failure"]}
    tampering = patterns["prod-cloudtrail-tampering"]
    assert {"StopLogging", "DeleteTrail", "UpdateTrail"} <= set(tampering["detail"]["eventName"])


def test_global_service_events_are_forwarded_from_us_east_1(cloudtrail):
    rules = by_name(cloudtrail, "aws_cloudwatch_event_rule")
    forwarded = {name: rule for name, rule in rules.items() if rule.get("provider")}
    assert sorted(forwarded) == ["prod-console-sign-in-failures-forward",
                                 "prod-iam-policy-changes-forward",
                                 "prod-root-account-usage-forward"]
    for name, rule in forwarded.items():
        assert rule["provider"] == "aws.us_east_1"
        # The same pattern: the home rule matches the forwarded event again.
        assert rule["event_pattern"] == rules[name.removesuffix("-forward")]["event_pattern"]
    role_address = address(cloudtrail, "aws_iam_role", name="prod-security-events-forward")
    forward_targets = [t for t in resources(cloudtrail, "aws_cloudwatch_event_target").values()
                       if t.get("provider")]
    assert len(forward_targets) == 3
    for target in forward_targets:
        assert target["arn"] == HOME_BUS
        assert target["role_arn"] == ref(role_address, "arn")
    inline = by_name(cloudtrail, "aws_iam_role_policy")["prod-security-events-forward-put-events"]
    (statement,) = policy(cloudtrail, inline["policy"])["statement"]
    assert statement["actions"] == ["events:PutEvents"]
    assert statement["resources"] == [HOME_BUS]
    us_east_1 = [p for p in cloudtrail["provider"]["aws"] if p.get("alias") == "us_east_1"]
    assert us_east_1[0]["region"] == "us-east-1"


def test_publishes(cloudtrail):
    assert {"/prod/cloudtrail/trail-arn", "/prod/cloudtrail/trail-bucket-name"} <= set(
        published(cloudtrail))


def test_reads_only_from_earlier_phases(cloudtrail):
    assert reads(cloudtrail) == ["/prod/kms/cloudtrail-key-arn", "/prod/kms/logs-key-arn",
                                 "/prod/kms/sns-key-arn"]
    phase = spec_of("cloudtrail").phase.number
    assert all(spec_of(producer).phase.number < phase for producer in producers(cloudtrail))


def test_state_backend(cloudtrail):
    assert cloudtrail["terraform"]["backend"]["s3"]["key"] == "cloudtrail/terraform.tfstate"
