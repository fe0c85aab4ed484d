"""SEC001 (open ingress), SEC002 (wildcard IAM), SEC003 (TLS-only buckets), SEC004 (literal secrets)."""

from __future__ import annotations

import json

import pytest

from policies.model import Outcome
from policies.rules.sec001_open_ingress import RULE as SEC001
from policies.rules.sec002_wildcard_iam import RULE as SEC002
from policies.rules.sec003_tls_only_buckets import RULE as SEC003
from policies.rules.sec004_literal_secrets import RULE as SEC004

C, N, NA = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.NOT_APPLICABLE
ALB_SG = "${aws_security_group.alb.id}"


def ingress(port, cidr="0.0.0.0/0", protocol="tcp"):
    return {"from_port": port, "to_port": port, "protocol": protocol, "cidr_blocks": [cidr],
            "ipv6_cidr_blocks": None, "description": "web"}


def lb(internal=False, groups=(ALB_SG,)):
    return {"aws_lb": {"public": {"name": "prod-alb", "internal": internal,
                                  "security_groups": list(groups)}}}


# --- SEC001 -----------------------------------------------------------------
@pytest.mark.parametrize(("case", "resources", "address", "expected"), [
    ("443 from the world on the public ALB's group",
     {**lb(), "aws_security_group": {"alb": {"ingress": [ingress(443), ingress(80)]}}},
     "aws_security_group.alb", C),
    ("same rule on a group no ALB uses",
     {**lb(), "aws_security_group": {"alb": {}, "app": {"ingress": [ingress(443)]}}},
     "aws_security_group.app", N),
    ("443 on an internal ALB's group",
     {**lb(internal=True), "aws_security_group": {"alb": {"ingress": [ingress(443)]}}},
     "aws_security_group.alb", N),
    ("22 from the world on the ALB's group",
     {**lb(), "aws_security_group": {"alb": {"ingress": [ingress(22)]}}},
     "aws_security_group.alb", N),
    ("all ports ::/0", {"aws_security_group": {"s": {"ingress": [
        {"from_port": 0, "to_port": 0, "protocol": "-1", "ipv6_cidr_blocks": ["::/0"]}]}}},
     "aws_security_group.s", N),
    ("VPC CIDR only", {"aws_security_group": {"s": {"ingress": [ingress(5432, "10.0.0.0/16")]}}},
     "aws_security_group.s", C),
    ("separate rule on the ALB's group",
     {**lb(), "aws_security_group": {"alb": {}}, "aws_security_group_rule": {"r": {
         "type": "ingress", "security_group_id": ALB_SG, **ingress(443)}}},
     "aws_security_group_rule.r", C),
    ("separate rule, port range", {"aws_security_group_rule": {"r": {
        "type": "ingress", "security_group_id": ALB_SG, "from_port": 0, "to_port": 65535,
        "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}}}, "aws_security_group_rule.r", N),
    ("egress to the world", {"aws_security_group_rule": {"r": {
        "type": "egress", **ingress(443)}}}, "aws_security_group_rule.r", C),
    ("vpc ingress rule on the ALB's group via an SSM-consumed id",
     {**lb(groups=["${data.aws_ssm_parameter.sg.insecure_value}"]),
      "aws_vpc_security_group_ingress_rule": {"r": {
          "security_group_id": "${data.aws_ssm_parameter.sg.insecure_value}",
          "cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443, "ip_protocol": "tcp"}}},
     "aws_vpc_security_group_ingress_rule.r", C),
    ("vpc ingress rule open on 3306", {"aws_vpc_security_group_ingress_rule": {"r": {
        "security_group_id": ALB_SG, "cidr_ipv4": "0.0.0.0/0", "from_port": 3306,
        "to_port": 3306, "ip_protocol": "tcp"}}}, "aws_vpc_security_group_ingress_rule.r", N),
    ("no security groups at all", {"aws_vpc": {"v": {}}}, "aws_vpc.v", NA),
])
def test_sec001(pol, case, resources, address, expected):
    assert pol.outcome_of(SEC001, pol.doc(resources), address) is expected, case


# --- SEC002 -----------------------------------------------------------------
def statement(actions, resources, effect=None):
    st = {"actions": actions, "resources": resources}
    if effect:
        st["effect"] = effect
    return st


@pytest.mark.parametrize(("case", "statements", "expected"), [
    ("scoped", [statement(["s3:GetObject"], ["arn:aws:s3:::prod-b/*"])], C),
    ("service wildcard on *", [statement(["kms:*"], ["*"])], C),
    ("* on a bucket", [statement(["*"], ["arn:aws:s3:::prod-b"])], C),
    ("* on *", [statement(["*"], ["*"])], N),
    ("explicit Allow * on *", [statement(["*"], ["*"], "Allow")], N),
    ("Deny * on *", [statement(["*"], ["*"], "Deny")], C),
])
def test_sec002_policy_documents(pol, case, statements, expected):
    doc = pol.doc(data={"aws_iam_policy_document": {"d": {"statement": statements}}})
    assert pol.outcome_of(SEC002, doc, "data.aws_iam_policy_document.d") is expected, case


@pytest.mark.parametrize(("case", "rtype", "attr", "policy", "expected"), [
    ("literal JSON * on *", "aws_iam_policy", "policy",
     {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, N),
    ("literal JSON scoped", "aws_iam_role_policy", "policy",
     {"Statement": [{"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": ["*"]}]}, C),
    ("inline policy * on *", "aws_iam_role", "inline_policy",
     [{"name": "x", "policy": json.dumps({"Statement": {"Effect": "Allow", "Action": ["*"],
                                                       "Resource": "*"}})}], N),
    ("policy from a document (checked on the document)", "aws_iam_role_policy", "policy",
     "${data.aws_iam_policy_document.d.json}", NA),
])
def test_sec002_literal_policies(pol, case, rtype, attr, policy, expected):
    value = json.dumps(policy) if isinstance(policy, dict) else policy
    doc = pol.doc({rtype: {"r": {attr: value}}})
    assert pol.outcome_of(SEC002, doc, f"{rtype}.r") is expected, case


# --- SEC003 -----------------------------------------------------------------
BUCKET_ARN = "${aws_s3_bucket.b.arn}"
TLS_DENY = {"effect": "Deny", "actions": ["s3:*"], "resources": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
            "principals": [{"type": "AWS", "identifiers": ["*"]}],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport",
                           "values": ["false"]}]}
TLS_STATEMENT = {"Effect": "Deny", "Action": "s3:*", "Principal": "*",
                 "Resource": ["arn:aws:s3:::prod-b", "arn:aws:s3:::prod-b/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
TLS_JSON = json.dumps({"Statement": [TLS_STATEMENT]})


def bucket_with_policy(policy):
    return {"aws_s3_bucket": {"b": {"bucket": "prod-b"}},
            "aws_s3_bucket_policy": {"p": {"bucket": "${aws_s3_bucket.b.id}", "policy": policy}}}


def tls_document(**changes):
    return {"aws_iam_policy_document": {"tls": {"statement": [{**TLS_DENY, **changes}]}}}


DOCUMENT_POLICY = "${data.aws_iam_policy_document.tls.json}"


@pytest.mark.parametrize(("case", "resources", "data", "expected"), [
    ("policy document denies plain HTTP", bucket_with_policy(DOCUMENT_POLICY), tls_document(), C),
    ("deny merged from a source document",
     bucket_with_policy("${data.aws_iam_policy_document.all.json}"),
     {"aws_iam_policy_document": {
         "all": {"source_policy_documents": [DOCUMENT_POLICY],
                 "statement": [statement(["s3:GetObject"], ["*"])]},
         **tls_document()["aws_iam_policy_document"]}}, C),
    ("literal JSON policy with the deny", bucket_with_policy(TLS_JSON), None, C),
    ("literal JSON, principal AWS *",
     bucket_with_policy(json.dumps({"Statement": [{**TLS_STATEMENT, "Principal": {"AWS": ["*"]}}]})),
     None, C),
    ("literal JSON, partition and bucket as expressions",
     bucket_with_policy(json.dumps({"Statement": [{**TLS_STATEMENT, "Resource": [
         "arn:${data.aws_partition.p.partition}:s3:::${aws_s3_bucket.b.bucket}",
         "arn:${data.aws_partition.p.partition}:s3:::${aws_s3_bucket.b.bucket}/*"]}]})), None, C),
    ("deny on * actions", bucket_with_policy(DOCUMENT_POLICY), tls_document(actions=["*"]), C),
    ("principal type *", bucket_with_policy(DOCUMENT_POLICY),
     tls_document(principals=[{"type": "*", "identifiers": ["*"]}]), C),
    ("bucket and objects in two deny statements",
     bucket_with_policy(DOCUMENT_POLICY),
     {"aws_iam_policy_document": {"tls": {"statement": [
         {**TLS_DENY, "resources": [BUCKET_ARN]}, {**TLS_DENY, "resources": [f"{BUCKET_ARN}/*"]}]}}},
     C),
    ("policy without the deny", bucket_with_policy("${data.aws_iam_policy_document.d.json}"),
     {"aws_iam_policy_document": {"d": {"statement": [statement(["s3:GetObject"], ["*"])]}}}, N),
    ("policy as an unreadable expression", bucket_with_policy("${jsonencode(local.p)}"), None, N),
    ("no bucket policy", {"aws_s3_bucket": {"b": {"bucket": "prod-b"}}}, None, N),
])
def test_sec003(pol, case, resources, data, expected):
    doc = pol.doc(resources, data=data)
    assert pol.outcome_of(SEC003, doc, "aws_s3_bucket.b") is expected, case


# Each way a deny on plain HTTP can be narrower than "every request, to the bucket and its
# objects" (cdk-nag's S3BucketSSLRequestsOnly), and the words the finding uses for it.
@pytest.mark.parametrize(("case", "changes", "message"), [
    ("only some actions", {"actions": ["s3:GetObject", "s3:PutObject"]},
     "denies s3:GetObject, s3:PutObject instead of s3:*"),
    ("one account instead of everyone",
     {"principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}]},
     "instead of every principal (*)"),
    ("no principal", {"principals": []}, "no principal instead of every principal (*)"),
    ("only the objects", {"resources": [f"{BUCKET_ARN}/*"]}, "does not cover the bucket ARN"),
    ("only the bucket", {"resources": [BUCKET_ARN]}, "does not cover its objects"),
    ("a prefix instead of every object", {"resources": [BUCKET_ARN, f"{BUCKET_ARN}/logs/*"]},
     "does not cover its objects"),
    ("resource * instead of the bucket's ARNs", {"resources": ["*"]},
     "does not cover the bucket ARN or its objects"),
    ("another bucket's ARNs",
     {"resources": ["${aws_s3_bucket.other.arn}", "${aws_s3_bucket.other.arn}/*"]},
     "does not cover the bucket ARN or its objects"),
    ("secure transport true", {"condition": [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}]},
     "no Deny statement on aws:SecureTransport = false"),
    ("a further condition", {"condition": [
        *TLS_DENY["condition"],
        {"test": "StringNotEquals", "variable": "aws:PrincipalAccount", "values": ["1"]}]},
     "also requires StringNotEquals aws:PrincipalAccount"),
    ("allow instead of deny", {"effect": "Allow"},
     "no Deny statement on aws:SecureTransport = false"),
])
def test_sec003_flags_each_weakening(pol, case, changes, message):
    doc = pol.doc(bucket_with_policy(DOCUMENT_POLICY), data=tls_document(**changes))
    outcome, text = pol.outcomes(SEC003, doc)["aws_s3_bucket.b"]
    assert outcome is N, case
    assert message in text, (case, text)


@pytest.mark.parametrize(("case", "changes", "message"), [
    ("action", {"Action": ["s3:GetObject"]}, "instead of s3:*"),
    ("principal", {"Principal": {"Service": "cloudtrail.amazonaws.com"}},
     "instead of every principal (*)"),
    ("objects only", {"Resource": "arn:aws:s3:::prod-b/*"}, "does not cover the bucket ARN"),
    ("condition", {"Condition": {"Bool": {"aws:SecureTransport": "true"}}}, "no Deny statement"),
])
def test_sec003_flags_each_weakening_in_literal_json(pol, case, changes, message):
    policy = json.dumps({"Statement": [{**TLS_STATEMENT, **changes}]})
    outcome, text = pol.outcomes(SEC003, pol.doc(bucket_with_policy(policy)))["aws_s3_bucket.b"]
    assert outcome is N and message in text, (case, text)


def test_sec003_policy_for_another_bucket_does_not_count(pol):
    resources = {**bucket_with_policy(TLS_JSON)}
    resources["aws_s3_bucket"] = {"b": {"bucket": "prod-b"}, "c": {"bucket": "prod-c"}}
    found = pol.outcomes(SEC003, pol.doc(resources))
    assert found["aws_s3_bucket.b"][0] is C and found["aws_s3_bucket.c"][0] is N


def test_sec003_not_applicable_without_buckets(pol):
    assert pol.outcomes(SEC003, pol.doc({"aws_vpc": {"v": {}}})) == {}


# --- SEC004 -----------------------------------------------------------------
@pytest.mark.parametrize(("case", "resources", "address", "expected"), [
    ("password from a secret", {"aws_db_instance": {"db": {
        "password": "${data.aws_secretsmanager_secret_version.s.secret_string}"}}},
     "aws_db_instance.db", C),
    ("literal password", {"aws_db_instance": {"db": {"password": "hunter2hunter2"}}},
     "aws_db_instance.db", N),
    ("literal secret_string", {"aws_secretsmanager_secret_version": {"v": {
        "secret_string": "{\"token\": \"abc\"}"}}}, "aws_secretsmanager_secret_version.v", N),
    ("access key id in a description", {"aws_sns_topic": {"t": {
        "name": "prod-t", "display_name": "AKIAABCDEFGHIJKLMNOP"}}}, "aws_sns_topic.t", N),
    ("private key block", {"aws_ssm_parameter": {"p": {
        "value": "-----BEGIN RSA PRIVATE KEY-----\nMII"}}}, "aws_ssm_parameter.p", N),
    ("github token in lambda env", {"aws_lambda_function": {"f": {"environment": {"variables": {
        "REPO": "ghp_" + "a" * 36}}}}}, "aws_lambda_function.f", N),
    ("secret-named env var literal", {"aws_lambda_function": {"f": {"environment": {"variables": {
        "WEBHOOK_SECRET": "s3cr3t"}}}}}, "aws_lambda_function.f", N),
    ("ordinary env var", {"aws_lambda_function": {"f": {"environment": {"variables": {
        "LOG_LEVEL": "info"}}}}}, "aws_lambda_function.f", C),
    ("bool flag named like a secret", {"aws_db_instance": {"db": {
        "manage_master_user_password": True}}}, "aws_db_instance.db", C),
    ("resource with no attributes", {"aws_eip": {"e": {}}}, "aws_eip.e", NA),
])
def test_sec004(pol, case, resources, address, expected):
    assert pol.outcome_of(SEC004, pol.doc(resources), address) is expected, case


def test_sec004_never_repeats_the_secret(pol):
    doc = pol.doc({"aws_db_instance": {"db": {"password": "hunter2hunter2"}}})
    _, message = pol.outcomes(SEC004, doc)["aws_db_instance.db"]
    assert "hunter2" not in message and "password" in message


def test_sec004_scans_outputs_and_ignores_comment_blocks(pol):
    doc = pol.doc({"aws_vpc": {"v": {"//": {"metadata": {"token": "not-a-secret-here"}}}}},
                  output={"leak": {"value": "AKIAABCDEFGHIJKLMNOP"}})
    found = pol.outcomes(SEC004, doc)
    assert found["output.leak"][0] is N
    assert "aws_vpc.v" not in found
