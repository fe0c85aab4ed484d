"""SEC001 (open ingress), SEC002 (wildcard IAM), SEC003 (TLS-only buckets), SEC004 (literal secrets), SEC005 (trail data events), SEC006 (VPC endpoint policies), SEC007 (secret resource policies), SEC008 (NACL admin ports), SEC009 (backup vault locks), SEC010 (backup plan copies)."""

from __future__ import annotations

import json

import pytest

from policies.model import Outcome
from policies.rules.sec001_open_ingress import RULE as SEC001
from policies.rules.sec002_wildcard_iam import RULE as SEC002
from policies.rules.sec003_tls_only_buckets import RULE as SEC003
from policies.rules.sec004_literal_secrets import RULE as SEC004
from policies.rules.sec005_trail_data_events import RULE as SEC005
from policies.rules.sec006_vpc_endpoint_policies import RULE as SEC006
from policies.rules.sec007_secret_resource_policies import RULE as SEC007
from policies.rules.sec008_nacl_admin_ports import RULE as SEC008
from policies.rules.sec009_backup_vault_lock import RULE as SEC009
from policies.rules.sec010_backup_plan_copies import RULE as SEC010

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


# --- SEC005 -----------------------------------------------------------------
STATE = "prod-connectly-tfstate"
STATE_ARN = f"arn:${{data.aws_partition.p.partition}}:s3:::{STATE}/"
OWN_BUCKET = "${aws_s3_bucket.trail.arn}/"
TRAIL = "aws_cloudtrail.t"


def selector(values, read_write_type="All", management=True):
    return {"read_write_type": read_write_type, "include_management_events": management,
            "data_resource": [{"type": "AWS::S3::Object", "values": list(values)}]}


def field(name, **operators):
    return {"field": name, **operators}


def s3_data(*fields):
    return {"field_selector": [field("eventCategory", equals=["Data"]),
                               field("resources.type", equals=["AWS::S3::Object"]), *fields]}


MANAGEMENT = {"field_selector": [field("eventCategory", equals=["Management"])]}
OURS = [selector([STATE_ARN]), selector([OWN_BUCKET], "ReadOnly", management=False)]


def trail_doc(pol, selectors=None, *, advanced=None, backend=True):
    body = {"name": "prod-trail", "s3_bucket_name": "${aws_s3_bucket.trail.id}"}
    if selectors is not None:
        body["event_selector"] = selectors
    if advanced is not None:
        body["advanced_event_selector"] = advanced
    doc = pol.doc({"aws_s3_bucket": {"trail": {"bucket": "prod-connectly-cloudtrail"}},
                   "aws_cloudtrail": {"t": body}})
    if backend:
        doc["terraform"]["backend"] = {"s3": {"bucket": STATE, "key": "cloudtrail/terraform.tfstate"}}
    return doc


@pytest.mark.parametrize(("case", "selectors", "expected", "message"), [
    ("state bucket All, own bucket ReadOnly (the cloudtrail stack)", OURS, C, ""),
    ("literal aws partition", [selector([f"arn:aws:s3:::{STATE}"])], C, ""),
    ("reads and writes in two selectors",
     [selector([STATE_ARN], "ReadOnly"), selector([STATE_ARN], "WriteOnly")], C, ""),
    ("no selectors: management events only", None, N, f"no S3 data events of the state bucket {STATE}"),
    ("another bucket only", [selector(["arn:aws:s3:::prod-other/"])], N,
     "no S3 data events of the state bucket"),
    ("a key prefix of the state bucket only", [selector([f"{STATE_ARN}bootstrap/"])], N,
     "only of some key prefixes"),
    ("reads only", [selector([STATE_ARN], "ReadOnly"), selector([], "WriteOnly")], N,
     "only read data events of the state bucket prod-connectly-tfstate, not writes"),
    ("writes only", [selector([STATE_ARN], "WriteOnly"), selector([], "ReadOnly")], N,
     "not reads"),
    ("management events dropped", [selector([STATE_ARN], management=False)], N,
     "logs no management events"),
    ("management reads only", [selector([STATE_ARN], "ReadOnly"),
                               selector([STATE_ARN], "WriteOnly", management=False)], N,
     "logs read management events"),
    ("write data events of its own bucket", [selector([STATE_ARN]), selector([OWN_BUCKET])], N,
     "write data events of its own bucket"),
    ("every bucket, reads and writes: its own bucket too", [selector(["arn:aws:s3"])], N,
     "write data events of its own bucket"),
    ("write data events of a key prefix of its own bucket",
     [selector([STATE_ARN]), selector([f"{OWN_BUCKET}AWSLogs/"], management=False)], N,
     "write data events of its own bucket"),
    ("its own bucket by literal ARN, WriteOnly",
     [selector([STATE_ARN]), selector(["arn:aws:s3:::prod-connectly-cloudtrail/"], "WriteOnly",
                                      management=False)], N, "loop"),
])
def test_sec005_classic_selectors(pol, case, selectors, expected, message):
    outcome, text = pol.outcomes(SEC005, trail_doc(pol, selectors), "cloudtrail")[TRAIL]
    assert outcome is expected, (case, text)
    assert message in text, case


@pytest.mark.parametrize(("case", "advanced", "expected", "message"), [
    ("management plus the state bucket's objects",
     [MANAGEMENT, s3_data(field("resources.ARN", starts_with=[STATE_ARN]))], C, ""),
    ("plus reads of its own bucket",
     [MANAGEMENT, s3_data(field("resources.ARN", starts_with=[STATE_ARN])),
      s3_data(field("resources.ARN", starts_with=[OWN_BUCKET]), field("readOnly", equals=["true"]))],
     C, ""),
    ("narrowed to some event names",
     [MANAGEMENT, s3_data(field("resources.ARN", starts_with=[STATE_ARN]),
                          field("eventName", equals=["GetObject"]))], N,
     "no S3 data events of the state bucket"),
    ("one state object only",
     [MANAGEMENT, s3_data(field("resources.ARN", equals=[f"{STATE_ARN}kms/terraform.tfstate"]))],
     N, "only of some key prefixes"),
    ("every bucket: writes of its own bucket", [MANAGEMENT, s3_data()], N,
     "write data events of its own bucket"),
    ("no management selector",
     [s3_data(field("resources.ARN", starts_with=[STATE_ARN]))], N, "logs no management events"),
])
def test_sec005_advanced_selectors(pol, case, advanced, expected, message):
    outcome, text = pol.outcomes(SEC005, trail_doc(pol, advanced=advanced), "cloudtrail")[TRAIL]
    assert outcome is expected, (case, text)
    assert message in text, case


def test_sec005_reads_the_state_bucket_from_the_stacks_backend(pol):
    doc = trail_doc(pol, [selector(["arn:aws:s3:::prod-elsewhere-tfstate/"]),
                          selector([OWN_BUCKET], "ReadOnly", management=False)])
    assert pol.outcome_of(SEC005, doc, TRAIL, "cloudtrail") is N
    doc["terraform"]["backend"]["s3"]["bucket"] = "prod-elsewhere-tfstate"
    assert pol.outcome_of(SEC005, doc, TRAIL, "cloudtrail") is C


def test_sec005_without_an_s3_backend_checks_only_management_and_the_loop(pol):
    assert pol.outcome_of(SEC005, trail_doc(pol, backend=False), TRAIL) is C
    looping = trail_doc(pol, [selector([OWN_BUCKET])], backend=False)
    assert pol.outcome_of(SEC005, looping, TRAIL) is N


def test_sec005_not_applicable_without_trails(pol):
    assert pol.outcomes(SEC005, pol.doc({"aws_s3_bucket": {"b": {"bucket": STATE}}})) == {}


# --- SEC007 -----------------------------------------------------------------
SECRET = "aws_secretsmanager_secret.s"
READERS = ["arn:aws:iam::123456789012:role/prod-atlantis-execution"]
READ_DENY = {"effect": "Deny", "actions": ["secretsmanager:GetSecretValue"], "resources": ["*"],
             "principals": [{"type": "*", "identifiers": ["*"]}],
             "condition": [{"test": "ArnNotEquals", "variable": "aws:PrincipalArn",
                            "values": READERS}]}
READ_DENY_JSON = json.dumps({"Statement": [{
    "Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Principal": "*",
    "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalArn": READERS}}}]})
READERS_POLICY = "${data.aws_iam_policy_document.readers.json}"


def secret_with_policy(policy=READERS_POLICY, secret_arn="${aws_secretsmanager_secret.s.arn}",
                       **settings):
    return {"aws_secretsmanager_secret": {"s": {"name": "prod/app/token"}},
            "aws_secretsmanager_secret_policy": {"p": {
                "secret_arn": secret_arn, "policy": policy,
                **({"block_public_policy": True} | settings)}}}


def readers_document(*statements):
    return {"aws_iam_policy_document": {"readers": {"statement": list(statements)}}}


@pytest.mark.parametrize(("case", "resources", "data", "expected"), [
    ("deny to all but the named roles", secret_with_policy(), readers_document(READ_DENY), C),
    ("literal JSON deny, StringNotEquals", secret_with_policy(READ_DENY_JSON), None, C),
    ("policy by the secret's name", secret_with_policy(secret_arn="prod/app/token"),
     readers_document(READ_DENY), C),
    ("nobody reads (no condition)", secret_with_policy(),
     readers_document({**READ_DENY, "condition": []}), C),
    ("secretsmanager:* denied", secret_with_policy(),
     readers_document({**READ_DENY, "actions": ["secretsmanager:*"]}), C),
    ("the secret's own policy argument",
     {"aws_secretsmanager_secret": {"s": {"name": "prod/app/token", "policy": READ_DENY_JSON}}},
     None, C),
    ("no policy", {"aws_secretsmanager_secret": {"s": {"name": "prod/app/token"}}}, None, N),
    ("a policy of another secret",
     {**secret_with_policy(secret_arn="${aws_secretsmanager_secret.other.arn}"),
      "aws_secretsmanager_secret": {"s": {"name": "prod/app/token"},
                                    "other": {"name": "prod/app/other"}}},
     readers_document(READ_DENY), N),
    ("an Allow only", secret_with_policy(),
     readers_document({**READ_DENY, "effect": "Allow", "condition": []}), N),
    ("deny of writes only", secret_with_policy(),
     readers_document({**READ_DENY, "actions": ["secretsmanager:PutSecretValue"]}), N),
    ("deny to one account instead of everyone", secret_with_policy(), readers_document(
        {**READ_DENY, "principals": [{"type": "AWS", "identifiers": ["123456789012"]}]}), N),
    ("deny only outside a VPC", secret_with_policy(), readers_document(
        {**READ_DENY, "condition": [{"test": "StringNotEquals", "variable": "aws:SourceVpc",
                                     "values": ["vpc-1"]}]}), N),
    ("public policies not blocked", secret_with_policy(block_public_policy=False),
     readers_document(READ_DENY), N),
    ("policy as an unreadable expression", secret_with_policy("${jsonencode(local.p)}"), None, N),
    ("the deny only on another secret", secret_with_policy(),
     readers_document({**READ_DENY, "resources": ["arn:aws:secretsmanager:*:*:secret:other"]}), N),
    ("the deny replaced by an override of the same Sid", secret_with_policy(), {
        "aws_iam_policy_document": {
            "readers": {"statement": [{**READ_DENY, "sid": "Readers"}],
                        "override_policy_documents": [
                            "${data.aws_iam_policy_document.loose.json}"]},
            "loose": {"statement": [{**READ_DENY, "sid": "Readers", "effect": "Allow",
                                     "condition": []}]}}}, N),
    ("a source statement of the same Sid replaced by the deny", secret_with_policy(), {
        "aws_iam_policy_document": {
            "readers": {"statement": [{**READ_DENY, "sid": "Readers"}],
                        "source_policy_documents": [
                            "${data.aws_iam_policy_document.loose.json}"]},
            "loose": {"statement": [{**READ_DENY, "sid": "Readers", "effect": "Allow",
                                     "condition": []}]}}}, C),
])
def test_sec007(pol, case, resources, data, expected):
    assert pol.outcome_of(SEC007, pol.doc(resources, data=data), SECRET) is expected, case


@pytest.mark.parametrize(("case", "resources", "data", "message"), [
    ("no policy", {"aws_secretsmanager_secret": {"s": {"name": "prod/app/token"}}}, None,
     "no aws_secretsmanager_secret_policy points at the secret"),
    ("an extra condition", secret_with_policy(), readers_document(
        {**READ_DENY, "condition": [*READ_DENY["condition"], {
            "test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]}),
     "no Deny of secretsmanager:GetSecretValue to every principal (*)"),
    ("block_public_policy left out", {**secret_with_policy(), "aws_secretsmanager_secret_policy": {
        "p": {"secret_arn": "${aws_secretsmanager_secret.s.arn}", "policy": READERS_POLICY}}},
     readers_document(READ_DENY),
     "aws_secretsmanager_secret_policy.p does not set block_public_policy = true"),
])
def test_sec007_says_what_is_missing(pol, case, resources, data, message):
    outcome, text = pol.outcomes(SEC007, pol.doc(resources, data=data))[SECRET]
    assert outcome is N and message in text, (case, text)


def test_sec007_not_applicable_without_secrets(pol):
    assert pol.outcomes(SEC007, pol.doc({"aws_vpc": {"v": {}}})) == {}


# --- SEC006 -----------------------------------------------------------------
ENDPOINT = "aws_vpc_endpoint.e"
ENDPOINT_POLICY = "${data.aws_iam_policy_document.ep.json}"
EVERY_PRINCIPAL = [{"type": "*", "identifiers": ["*"]}]
OWN_ACCOUNT = {"actions": ["s3:*"], "resources": ["*"], "principals": EVERY_PRINCIPAL,
               "condition": [{"test": "StringEquals", "variable": "aws:PrincipalAccount",
                              "values": ["${data.aws_caller_identity.a.account_id}"]}]}
FULL_ACCESS = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                              "Resource": "*"}]}


def endpoint(policy=None, **attributes):
    body = {"service_name": "com.amazonaws.ap-northeast-2.s3", **attributes}
    if policy is not None:
        body["policy"] = policy
    return {"aws_vpc_endpoint": {"e": body}}


def endpoint_document(*statements):
    return {"aws_iam_policy_document": {"ep": {"statement": list(statements)}}}


@pytest.mark.parametrize(("case", "resources", "data", "expected"), [
    ("own principals only, from a policy document", endpoint(ENDPOINT_POLICY),
     endpoint_document(OWN_ACCOUNT), C),
    ("interface endpoint with a literal policy",
     endpoint(json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*",
                                        "Action": "secretsmanager:GetSecretValue",
                                        "Resource": "*"}]}), vpc_endpoint_type="Interface"),
     None, C),
    ("policy in a separate aws_vpc_endpoint_policy",
     {**endpoint(), "aws_vpc_endpoint_policy": {"p": {
         "vpc_endpoint_id": "${aws_vpc_endpoint.e.id}", "policy": ENDPOINT_POLICY}}},
     endpoint_document(OWN_ACCOUNT), C),
    ("policy as an expression we cannot read", endpoint("${jsonencode(local.p)}"), None, C),
    ("no policy (AWS's full access)", endpoint(), None, N),
    ("interface endpoint without a policy", endpoint(vpc_endpoint_type="Interface"), None, N),
    ("separate policy for another endpoint",
     {**endpoint(), "aws_vpc_endpoint_policy": {"p": {
         "vpc_endpoint_id": "${aws_vpc_endpoint.other.id}", "policy": ENDPOINT_POLICY}}},
     endpoint_document(OWN_ACCOUNT), N),
    ("literal full-access policy", endpoint(json.dumps(FULL_ACCESS)), None, N),
    ("document allowing s3:* on * to everyone, unconditioned", endpoint(ENDPOINT_POLICY),
     endpoint_document({**OWN_ACCOUNT, "condition": []}), N),
    ("full access merged from a source document",
     endpoint("${data.aws_iam_policy_document.all.json}"),
     {"aws_iam_policy_document": {
         "all": {"source_policy_documents": [ENDPOINT_POLICY], "statement": [OWN_ACCOUNT]},
         **endpoint_document({"actions": ["*"], "resources": ["*"]})[
             "aws_iam_policy_document"]}}, N),
    ("gateway load balancer endpoints take no policy",
     endpoint(vpc_endpoint_type="GatewayLoadBalancer"), None, NA),
])
def test_sec006(pol, case, resources, data, expected):
    assert pol.outcome_of(SEC006, pol.doc(resources, data=data), ENDPOINT) is expected, case


def test_sec006_says_why(pol):
    found = pol.outcomes(SEC006, pol.doc(endpoint()))
    assert "no policy" in found[ENDPOINT][1]
    doc = pol.doc(endpoint(ENDPOINT_POLICY), data=endpoint_document(
        {**OWN_ACCOUNT, "sid": "Open", "condition": []}))
    outcome, text = pol.outcomes(SEC006, doc)[ENDPOINT]
    assert outcome is N and "statement Open allows every action on every resource" in text


# --- SEC008 -----------------------------------------------------------------
def acl_entry(rule_no, protocol, from_port, to_port, cidr="0.0.0.0/0", action="allow"):
    return {"rule_no": rule_no, "action": action, "protocol": protocol, "from_port": from_port,
            "to_port": to_port, "cidr_block": cidr}


# The entries of stacks/network.py's default ACL: the VPC, the ALB's ports and the
# ephemeral return ports around 3389.
OUR_INGRESS = [acl_entry(100, "-1", 0, 0, "10.0.0.0/16"), acl_entry(110, "6", 443, 443),
               acl_entry(120, "6", 80, 80), acl_entry(130, "6", 1024, 3388),
               acl_entry(140, "6", 3390, 65535)]


@pytest.mark.parametrize(("case", "kind", "ingress", "expected"), [
    ("our default ACL", "aws_default_network_acl", OUR_INGRESS, C),
    ("everything from the VPC only", "aws_network_acl", [acl_entry(100, "-1", 0, 0, "10.0.0.0/8")],
     C),
    ("22 denied from the world", "aws_network_acl", [acl_entry(100, "tcp", 22, 22, action="deny")],
     C),
    ("ICMP from the world", "aws_network_acl", [acl_entry(100, "icmp", 0, 0)], C),
    ("no ingress at all", "aws_default_network_acl", [], C),
    ("AWS's default: everything from the world", "aws_default_network_acl",
     [acl_entry(100, "-1", 0, 0)], N),
    ("all protocols by name", "aws_network_acl", [acl_entry(100, "all", 0, 0)], N),
    ("ephemeral range not split around 3389", "aws_default_network_acl",
     [*OUR_INGRESS[:3], acl_entry(130, "6", 1024, 65535)], N),
    ("ssh from the world", "aws_network_acl", [acl_entry(100, "tcp", 22, 22)], N),
    ("RDP over UDP", "aws_network_acl", [acl_entry(100, "17", 3389, 3389)], N),
    ("ssh from ::/0", "aws_network_acl",
     [{**acl_entry(100, "6", 0, 1023, cidr=None), "ipv6_cidr_block": "::/0"}], N),
    ("a deny first does not excuse the allow", "aws_network_acl",
     [acl_entry(90, "6", 22, 22, action="deny"), acl_entry(100, "6", 0, 65535)], N),
])
def test_sec008_acls(pol, case, kind, ingress, expected):
    doc = pol.doc({kind: {"a": {"ingress": ingress,
                                "egress": [acl_entry(100, "-1", 0, 0)]}}})
    assert pol.outcome_of(SEC008, doc, f"{kind}.a") is expected, case


@pytest.mark.parametrize(("case", "rule", "expected"), [
    ("https from the world", {"rule_action": "allow", "protocol": "tcp", "from_port": 443,
                              "to_port": 443, "cidr_block": "0.0.0.0/0"}, C),
    ("egress to 22", {"egress": True, "rule_action": "allow", "protocol": "tcp",
                      "from_port": 22, "to_port": 22, "cidr_block": "0.0.0.0/0"}, C),
    ("ingress 3389 from the world", {"rule_action": "allow", "protocol": "6",
                                     "from_port": 3000, "to_port": 4000,
                                     "cidr_block": "0.0.0.0/0"}, N),
    ("ingress all protocols", {"egress": False, "rule_action": "allow", "protocol": "-1",
                               "cidr_block": "0.0.0.0/0"}, N),
])
def test_sec008_acl_rules(pol, case, rule, expected):
    doc = pol.doc({"aws_network_acl_rule": {"r": {"network_acl_id": "${aws_network_acl.a.id}",
                                                  "rule_number": 100, **rule}}})
    assert pol.outcome_of(SEC008, doc, "aws_network_acl_rule.r") is expected, case


def test_sec008_names_the_entry_and_the_ports(pol):
    doc = pol.doc({"aws_default_network_acl": {"a": {"ingress": [acl_entry(100, "-1", 0, 0)]}}})
    outcome, text = pol.outcomes(SEC008, doc)["aws_default_network_acl.a"]
    assert outcome is N and "ingress 100 allows 0.0.0.0/0" in text and "22 and 3389" in text


@pytest.mark.parametrize(("case", "resources", "expected"), [
    ("default ACL adopted", {"aws_vpc": {"v": {}}, "aws_default_network_acl": {"d": {
        "default_network_acl_id": "${aws_vpc.v.default_network_acl_id}",
        "ingress": OUR_INGRESS}}}, C),
    ("default ACL left as AWS creates it", {"aws_vpc": {"v": {}}}, N),
    ("another VPC's default ACL adopted", {"aws_vpc": {"v": {}}, "aws_default_network_acl": {
        "d": {"default_network_acl_id": "${aws_vpc.other.default_network_acl_id}"}}}, N),
])
def test_sec008_every_vpc_manages_its_default_acl(pol, case, resources, expected):
    assert pol.outcome_of(SEC008, pol.doc(resources), "aws_vpc.v") is expected, case


# --- SEC009 / SEC010 ----------------------------------------------------------
TOKYO = "ap_northeast_1"
TWO_REGIONS = [{"region": "ap-northeast-2", "default_tags": [{"tags": {"Environment": "prod"}}]},
               {"alias": TOKYO, "region": "ap-northeast-1"}]


def lock(vault="${aws_backup_vault.v.name}", **changes):
    body = {"backup_vault_name": vault, "changeable_for_days": 3, "min_retention_days": 35}
    return {key: value for key, value in {**body, **changes}.items() if value is not None}


def vaults(home_lock=None, copy_lock=None):
    """A home vault `v` and a Tokyo vault `c`, each with the given lock (None: a
    compliant one; False: none)."""
    resources = {"aws_backup_vault": {
        "v": {"name": "prod-backup", "kms_key_arn": "${aws_kms_key.k.arn}"},
        "c": {"name": "prod-backup-copy", "kms_key_arn": "${aws_kms_key.t.arn}",
              "provider": f"aws.{TOKYO}"}}}
    locks = {}
    if home_lock is not False:
        locks["v"] = home_lock or lock()
    if copy_lock is not False:
        locks["c"] = copy_lock or {**lock("${aws_backup_vault.c.name}"), "provider": f"aws.{TOKYO}"}
    if locks:
        resources["aws_backup_vault_lock_configuration"] = locks
    return resources


@pytest.mark.parametrize(("case", "resources", "expected", "message"), [
    ("compliance lock with a minimum", vaults(), C, ""),
    ("lock naming the vault by its literal name", vaults(home_lock=lock("prod-backup")), C, ""),
    ("no lock", vaults(home_lock=False), N, "no aws_backup_vault_lock_configuration names"),
    ("governance lock", vaults(home_lock=lock(changeable_for_days=None)), N,
     "sets no changeable_for_days: a governance lock"),
    ("lock without a minimum", vaults(home_lock=lock(min_retention_days=None)), N,
     "sets no min_retention_days"),
    ("lock of another vault", vaults(home_lock=lock("${aws_backup_vault.c.name}")), N,
     "no aws_backup_vault_lock_configuration names"),
    ("lock on another Region's provider",
     vaults(home_lock={**lock(), "provider": f"aws.{TOKYO}"}), N, "uses another provider"),
])
def test_sec009(pol, case, resources, expected, message):
    doc = pol.doc(resources, providers=TWO_REGIONS)
    outcome, text = pol.outcomes(SEC009, doc)["aws_backup_vault.v"]
    assert outcome is expected, case
    assert message in text


def test_sec009_not_applicable_without_vaults(pol):
    assert pol.outcomes(SEC009, pol.doc({"aws_kms_key": {"k": {}}})) == {}


def plan(delete_after=35, copies=None):
    rule = {"rule_name": "daily", "target_vault_name": "${aws_backup_vault.v.name}",
            "schedule": "cron(0 17 * * ? *)"}
    if delete_after is not None:
        rule["lifecycle"] = {"delete_after": delete_after}
    rule["copy_action"] = copies if copies is not None else [copy()]
    return {"aws_backup_plan": {"p": {"name": "prod-backup", "rule": [rule]}}}


def copy(destination="${aws_backup_vault.c.arn}", delete_after=35):
    return {"destination_vault_arn": destination, "lifecycle": {"delete_after": delete_after}}


@pytest.mark.parametrize(("case", "resources", "expected", "message"), [
    ("daily, 35 days, copied to Tokyo", {**vaults(), **plan()}, C, ""),
    ("copy to a literal ARN of another Region", {**vaults(), **plan(copies=[copy(
        "arn:aws:backup:ap-northeast-1:123456789012:backup-vault:prod-backup-copy")])}, C, ""),
    ("no copy", {**vaults(), **plan(copies=[])}, N,
     "copies to no vault of another Region than its own (ap-northeast-2; copies to: none)"),
    ("copy into the same Region", {**vaults(), **plan(copies=[copy(
        "${aws_backup_vault.v.arn}")])}, N, "copies to: ap-northeast-2"),
    ("copy to a vault the stack cannot place", {**vaults(), **plan(copies=[copy(
        "${data.aws_ssm_parameter.vault.insecure_value}")])}, N, "copies to: unknown"),
    ("retention below the home lock's minimum", {**vaults(), **plan(delete_after=30)}, N,
     "rule[0] (daily) keeps recovery points 30 days, fewer than the 35 of "
     "aws_backup_vault_lock_configuration.v: every job fails"),
    ("copy retention below the copy lock's minimum",
     {**vaults(), **plan(copies=[copy(delete_after=7)])}, N,
     "rule[0] (daily) copy_action[0] keeps recovery points 7 days, fewer than the 35"),
    ("kept for ever in a vault with a maximum",
     {**vaults(home_lock=lock(max_retention_days=365)), **plan(delete_after=None)}, N,
     "keeps recovery points for ever, longer than the 365 days"),
    ("kept beyond the maximum",
     {**vaults(home_lock=lock(max_retention_days=30)), **plan()}, N,
     "keeps recovery points 35 days, longer than the 30 days"),
    ("unlocked vaults impose no retention", {**vaults(False, False), **plan(delete_after=1)},
     C, ""),
])
def test_sec010(pol, case, resources, expected, message):
    doc = pol.doc(resources, providers=TWO_REGIONS)
    outcome, text = pol.outcomes(SEC010, doc)["aws_backup_plan.p"]
    assert outcome is expected, case
    assert message in text


def test_sec010_not_applicable_without_plans(pol):
    assert pol.outcomes(SEC010, pol.doc(vaults(), providers=TWO_REGIONS)) == {}
