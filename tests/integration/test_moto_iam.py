"""The moto server of the local runs enforces IAM as the least-privilege proof needs it:
the administrator's keys only after setup, managed policies as granted, trusts with an
account root and aws:PrincipalArn, table-scoped DynamoDB statements, and the calls moto
mis-authorized (HeadBucket, Route 53 reads) as IAM authorizes them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from local_deploy.least_privilege import DENIED_CODES, error_code, session_keys
from local_deploy.local_aws import ACCOUNT_ID, FAKE_CREDENTIALS, LocalAws

pytestmark = pytest.mark.slow

REGION = "ap-northeast-2"


def _document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with LocalAws(tmp_path_factory.mktemp("moto-iam") / "moto.log") as server:
        yield server


def _role(aws, name: str, trust: str, *, managed: str | None = None,
          inline: str | None = None) -> str:
    iam = aws.client("iam", REGION)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    if managed:
        iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{managed}")
    if inline:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=inline)
    return arn


def _session(aws, role_arn: str, keys: dict | None = None) -> dict[str, str]:
    sts = aws.client("sts", REGION, keys)
    return session_keys(sts.assume_role(RoleArn=role_arn, RoleSessionName="test")["Credentials"])


def _admin_trust(aws) -> str:
    admin = aws.client("sts", REGION).get_caller_identity()["Arn"]
    return _document({"Effect": "Allow", "Action": "sts:AssumeRole",
                      "Principal": {"AWS": admin}})


def _code(call) -> str:
    try:
        call()
    except ClientError as error:
        return error_code(error)
    return "allowed"


def test_only_the_administrators_keys_work_after_setup(aws):
    assert aws.credentials != FAKE_CREDENTIALS
    assert _code(lambda: aws.client("sts", REGION, FAKE_CREDENTIALS).get_caller_identity()
                 and aws.client("s3", REGION, FAKE_CREDENTIALS).list_buckets()) != "allowed"
    assert aws.client("sts", REGION).get_caller_identity()["Arn"].endswith(":user/local-admin")


def test_read_only_access_reads_and_cannot_write(aws):
    keys = _session(aws, _role(aws, "read-only", _admin_trust(aws), managed="ReadOnlyAccess"))
    aws.client("s3", REGION).create_bucket(
        Bucket="read-only-probe", CreateBucketConfiguration={"LocationConstraint": REGION})
    route53 = aws.client("route53", REGION)
    check = route53.create_health_check(CallerReference="probe", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "probe.example.com", "Port": 443,
        "ResourcePath": "/"})["HealthCheck"]
    # Reads moto used to refuse: HeadBucket (as s3:HeadBucket) and Route 53 GETs (signature).
    aws.client("s3", REGION, keys).head_bucket(Bucket="read-only-probe")
    aws.client("route53", REGION, keys).get_health_check(HealthCheckId=check["Id"])
    denied = {
        "CreateVpc": lambda: aws.client("ec2", REGION, keys).create_vpc(CidrBlock="10.9.0.0/16"),
        "CreateBucket": lambda: aws.client("s3", REGION, keys).create_bucket(
            Bucket="read-only-write", CreateBucketConfiguration={"LocationConstraint": REGION}),
        "PutParameter": lambda: aws.client("ssm", REGION, keys).put_parameter(
            Name="/probe", Value="x", Type="String"),
        "CreateKey": lambda: aws.client("kms", REGION, keys).create_key(),
    }
    for name, call in denied.items():
        assert _code(call) in (*DENIED_CODES, "UnauthorizedOperation"), name
    # A JSON-protocol service answers in JSON, naming the refused action.
    try:
        aws.client("ssm", REGION, keys).put_parameter(Name="/probe", Value="x", Type="String")
    except ClientError as error:
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert error.response["Error"]["Message"].endswith(
            "is not authorized to perform: ssm:PutParameter")
    else:
        raise AssertionError("PutParameter with ReadOnlyAccess was allowed")


def test_a_trust_of_the_account_root_holds_its_principal_arn_condition(aws):
    may_assume = _document({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
    trusted = _role(aws, "trusted-caller", _admin_trust(aws), inline=may_assume)
    stranger = _role(aws, "other-caller", _admin_trust(aws), inline=may_assume)
    target = _role(aws, "guarded", _document({
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
        "Condition": {"ArnEquals": {"aws:PrincipalArn": trusted}}}))
    assert _session(aws, target, _session(aws, trusted))["AWS_ACCESS_KEY_ID"]
    assert _code(lambda: _session(aws, target, _session(aws, stranger))) == "AccessDenied"


def test_a_table_scoped_dynamodb_statement_matches_only_its_table(aws):
    dynamodb = aws.client("dynamodb", REGION)
    for table in ("locks", "other"):
        dynamodb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/locks"
    keys = _session(aws, _role(aws, "locker", _admin_trust(aws), inline=_document({
        "Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": arn})))
    client = aws.client("dynamodb", REGION, keys)
    item = {"LockID": {"S": "probe"}}
    client.put_item(TableName="locks", Item=item)
    assert _code(lambda: client.put_item(TableName="other", Item=item)) in DENIED_CODES


def test_cloudwatch_reads_are_authorized_as_cloudwatch_actions(aws):
    keys = _session(aws, _role(aws, "alarm-reader", _admin_trust(aws), inline=_document({
        "Effect": "Allow", "Action": "cloudwatch:Describe*", "Resource": "*"})))
    client = aws.client("cloudwatch", REGION, keys)
    assert client.describe_alarms()["MetricAlarms"] == []
    assert _code(lambda: client.put_metric_alarm(
        AlarmName="probe", MetricName="m", Namespace="n", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )) in DENIED_CODES


def test_a_table_scoped_glue_statement_matches_only_its_tables(aws):
    glue = aws.client("glue", REGION)
    glue.create_database(DatabaseInput={"Name": "trail"})
    glue.create_table(DatabaseName="trail", TableInput={"Name": "logs"})
    keys = _session(aws, _role(aws, "index-reader", _admin_trust(aws), inline=_document({
        "Effect": "Allow", "Action": "glue:GetPartitionIndexes",
        "Resource": [f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:catalog",
                     f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:database/trail",
                     f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:table/trail/*"]})))
    client = aws.client("glue", REGION, keys)
    assert client.get_partition_indexes(DatabaseName="trail", TableName="logs")[
        "PartitionIndexDescriptorList"] == []
    assert _code(lambda: client.get_table(DatabaseName="trail", Name="logs")) in DENIED_CODES
