"""cloudtrail stack: the multi-Region trail with its S3 data events, its WORM bucket,
log group and role, Athena and Glue over the trail logs, the security-event rules
and the CIS metric filters with their alarms."""

from __future__ import annotations

import json

import pytest

from environments.prod import SETTINGS
from policies.model import Outcome, StackView
from policies.rules.sec005_trail_data_events import RULE as SEC005
from stacks.cloudtrail import CIS_METRIC_FILTERS
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


def test_security_topic_accepts_only_eventbridge_and_cloudwatch_alarms(cloudtrail):
    document = policy(cloudtrail, one(cloudtrail, "aws_sns_topic_policy")["policy"])
    publishers = [s for s in document["statement"] if s.get("sid") == "ServicesPublish"]
    assert publishers[0]["principals"] == [{
        "type": "Service", "identifiers": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]}]
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


# --- S3 data events ------------------------------------------------------------
S3_OBJECT = "AWS::S3::Object"
STATE_BUCKET = SETTINGS.state.bucket


def test_trail_logs_reads_and_writes_of_the_state_bucket(cloudtrail):
    state, _ = one(cloudtrail, "aws_cloudtrail")["event_selector"]
    # The bucket every stack's S3 backend keeps its state in (bootstrap creates it).
    assert cloudtrail["terraform"]["backend"]["s3"]["bucket"] == STATE_BUCKET == "prod-connectly-tfstate"
    assert state["read_write_type"] == "All"
    assert state["data_resource"] == [{"type": S3_OBJECT,
                                       "values": [f"arn:{PARTITION}:s3:::{STATE_BUCKET}/"]}]


def test_trail_logs_only_reads_of_its_own_bucket(cloudtrail):
    _, own = one(cloudtrail, "aws_cloudtrail")["event_selector"]
    bucket = address(cloudtrail, "aws_s3_bucket", bucket="prod-connectly-cloudtrail")
    # Writes there would log the trail's own deliveries (a loop).
    assert own["read_write_type"] == "ReadOnly"
    assert own["data_resource"] == [{"type": S3_OBJECT, "values": [f"{ref(bucket, 'arn')}/"]}]
    assert own["include_management_events"] is False


def test_trail_still_logs_all_management_events(cloudtrail):
    trail = one(cloudtrail, "aws_cloudtrail")
    management = [s for s in trail["event_selector"] if s["include_management_events"]]
    assert [s["read_write_type"] for s in management] == ["All"]
    assert "exclude_management_event_sources" not in management[0]
    assert "advanced_event_selector" not in trail


def test_trail_passes_sec005(cloudtrail):
    results = dict(SEC005.check_stack(StackView.from_doc("cloudtrail", cloudtrail)))
    (result,) = results.values()
    assert result.outcome is Outcome.COMPLIANT, result.message


# --- CIS metric filters and alarms ---------------------------------------------
# Event names (and other terms) each CIS AWS Foundations 4.x pattern must contain.
CIS_TERMS = {
    "prod-cis-unauthorized-api-calls": ['"*UnauthorizedOperation"', '"AccessDenied*"',
                                        "delivery.logs.amazonaws.com", "HeadBucket"],
    "prod-cis-console-sign-in-without-mfa": ['"ConsoleLogin"',
                                             '$.additionalEventData.MFAUsed != "Yes"'],
    "prod-cis-root-account-usage": ['$.userIdentity.type = "Root"',
                                    "$.userIdentity.invokedBy NOT EXISTS", '"AwsServiceEvent"'],
    "prod-cis-iam-policy-changes": [
        "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
        "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
        "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy",
        "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"],
    "prod-cis-cloudtrail-changes": ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging",
                                    "StopLogging"],
    "prod-cis-console-authentication-failures": ["ConsoleLogin", '"Failed authentication"'],
    "prod-cis-cmk-disabled-or-deleted": ["kms.amazonaws.com", "DisableKey",
                                         "ScheduleKeyDeletion"],
    "prod-cis-s3-bucket-policy-changes": [
        "s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors",
        "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors",
        "DeleteBucketLifecycle", "DeleteBucketReplication"],
    "prod-cis-config-changes": ["config.amazonaws.com", "StopConfigurationRecorder",
                                "DeleteDeliveryChannel", "PutDeliveryChannel",
                                "PutConfigurationRecorder"],
    "prod-cis-security-group-changes": [
        "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
        "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup",
        "DeleteSecurityGroup", "ModifySecurityGroupRules"],
    "prod-cis-nacl-changes": ["CreateNetworkAcl)", "CreateNetworkAclEntry", "DeleteNetworkAcl)",
                              "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry",
                              "ReplaceNetworkAclAssociation"],
    "prod-cis-network-gateway-changes": ["CreateCustomerGateway", "DeleteCustomerGateway",
                                         "AttachInternetGateway", "CreateInternetGateway",
                                         "DeleteInternetGateway", "DetachInternetGateway"],
    "prod-cis-route-table-changes": ["CreateRoute)", "CreateRouteTable", "ReplaceRoute)",
                                     "ReplaceRouteTableAssociation", "DeleteRouteTable",
                                     "DeleteRoute)", "DisassociateRouteTable"],
    "prod-cis-vpc-changes": ["CreateVpc)", "DeleteVpc)", "ModifyVpcAttribute",
                             "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection",
                             "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection"],
    "prod-cis-organizations-changes": [
        "organizations.amazonaws.com", '"AcceptHandshake"', '"AttachPolicy"', '"CreateAccount"',
        '"CreateOrganizationalUnit"', '"CreatePolicy"', '"DeclineHandshake"',
        '"DeleteOrganization"', '"DeleteOrganizationalUnit"', '"DeletePolicy"', '"DetachPolicy"',
        '"DisablePolicyType"', '"EnablePolicyType"', '"InviteAccountToOrganization"',
        '"LeaveOrganization"', '"MoveAccount"', '"RemoveAccountFromOrganization"',
        '"UpdatePolicy"', '"UpdateOrganizationalUnit"'],
}


def test_the_table_holds_cis_4_1_to_4_15_once_each():
    assert [spec.control for spec in CIS_METRIC_FILTERS] == [f"4.{n}" for n in range(1, 16)]
    assert len({spec.what for spec in CIS_METRIC_FILTERS}) == 15


def test_fifteen_cis_metric_filters_on_the_trail_log_group(cloudtrail):
    filters = by_name(cloudtrail, "aws_cloudwatch_log_metric_filter")
    assert sorted(filters) == sorted(CIS_TERMS)
    group = address(cloudtrail, "aws_cloudwatch_log_group", name="/aws/cloudtrail/prod-trail")
    for name, metric_filter in filters.items():
        assert metric_filter["log_group_name"] == ref(group, "name"), name
        assert metric_filter["metric_transformation"] == {
            "name": name.removeprefix("prod-cis-"), "namespace": "CISBenchmark/prod", "value": "1"}


def test_cis_patterns_contain_the_benchmark_event_names(cloudtrail):
    for name, metric_filter in by_name(cloudtrail, "aws_cloudwatch_log_metric_filter").items():
        pattern = metric_filter["pattern"]
        missing = [term for term in CIS_TERMS[name] if term not in pattern]
        assert not missing, f"{name} lacks {missing}"
        # CloudWatch Logs takes at most 1024 characters; a JSON pattern is one {...}.
        assert len(pattern) <= 1024 and pattern.startswith("{") and pattern.endswith("}")
        assert pattern.count("(") == pattern.count(")"), name
    # The 4.1 pattern the benchmark prints, character for character (tools compare it).
    assert by_name(cloudtrail, "aws_cloudwatch_log_metric_filter")[
        "prod-cis-unauthorized-api-calls"]["pattern"] == (
        '{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") '
        '&& ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }')


def test_every_cis_filter_has_an_alarm_on_the_security_topic(cloudtrail):
    filters = resources(cloudtrail, "aws_cloudwatch_log_metric_filter").values()
    alarms = by_name(cloudtrail, "aws_cloudwatch_metric_alarm", "alarm_name")
    cis = {(a["namespace"], a["metric_name"]): name for name, a in alarms.items()
           if a["namespace"] == "CISBenchmark/prod"}
    assert len(cis) == 15
    topic = ref(address(cloudtrail, "aws_sns_topic", name="prod-security-events"), "arn")
    severities = {spec.what: spec.severity for spec in CIS_METRIC_FILTERS}
    for metric_filter in filters:
        metric = metric_filter["metric_transformation"]
        name = cis[(metric["namespace"], metric["name"])]
        assert name == f"prod-cloudtrail-{metric['name']}-{severities[metric['name']]}"
        alarm = alarms[name]
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic], name
        assert alarm["actions_enabled"] is True
        assert (alarm["statistic"], alarm["comparison_operator"], alarm["threshold"]) == (
            "Sum", "GreaterThanOrEqualToThreshold", 1)
        assert (alarm["period"], alarm["evaluation_periods"]) == (300, 1)
        assert alarm["treat_missing_data"] == "notBreaching"
        assert alarm["alarm_description"].startswith("CIS AWS Foundations 4.")
    assert alarms["prod-cloudtrail-root-account-usage-critical"]


# --- WORM trail bucket -----------------------------------------------------------
def test_trail_bucket_is_worm_in_compliance_mode_for_the_log_retention(cloudtrail):
    bucket = address(cloudtrail, "aws_s3_bucket", bucket="prod-connectly-cloudtrail")
    lock = one(cloudtrail, "aws_s3_bucket_object_lock_configuration")
    assert lock["bucket"] == ref(bucket)
    group = by_name(cloudtrail, "aws_cloudwatch_log_group")["/aws/cloudtrail/prod-trail"]
    assert lock["rule"] == {"default_retention": {
        "mode": "COMPLIANCE", "days": group["retention_in_days"]}}
    assert group["retention_in_days"] == 365
    assert any(d.startswith("aws_s3_bucket_versioning.trail-bucket") for d in lock["depends_on"])
    # Enabled in place on the existing bucket: object_lock_enabled would replace it.
    for body in resources(cloudtrail, "aws_s3_bucket").values():
        assert "object_lock_enabled" not in body and "object_lock_configuration" not in body
