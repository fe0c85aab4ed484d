"""The auditor's judgement of read-back facts (local_deploy/account_controls.py), on
hand-written API answers: each control met by the right answer and failed by a
wrong one."""

from __future__ import annotations

import pytest

from local_deploy.account_controls import Control, judge

STATE = "prod-connectly-tfstate"
ALLOW_ALL_IN = {"CidrBlock": "0.0.0.0/0", "Egress": False, "Protocol": "-1",
                "RuleAction": "allow", "RuleNumber": 100}
DENY_ALL_IN = {**ALLOW_ALL_IN, "RuleAction": "deny", "RuleNumber": 32767}


def tcp_in(low: int, high: int, cidr: str = "0.0.0.0/0") -> dict:
    return {"CidrBlock": cidr, "Egress": False, "Protocol": "6", "RuleAction": "allow",
            "RuleNumber": 110, "PortRange": {"From": low, "To": high}}


HOME_VAULT = "arn:aws:backup:ap-northeast-2:1:backup-vault:prod-backup"
COPY_VAULT = "arn:aws:backup:ap-northeast-1:1:backup-vault:prod-backup-copy"


def vault(arn: str, **changes) -> dict:
    region, name = arn.split(":")[3], arn.rsplit(":", 1)[1]
    return {"region": region, "name": name, "arn": arn, "key_arn": f"arn:aws:kms:{region}:1:key/k",
            "key_manager": "CUSTOMER", "locked": True, "min_retention_days": 35,
            "max_retention_days": None, "lock_date": "2026-12-05T00:00:00+00:00"} | changes


def backup(rule: dict | None = None, vaults: list | None = None) -> dict:
    daily = {"name": "daily", "vault": "prod-backup", "schedule": "cron(0 17 * * ? *)",
             "delete_after_days": 35,
             "copies": [{"destination": COPY_VAULT, "delete_after_days": 35}]}
    return {"vaults": vaults if vaults is not None else [vault(HOME_VAULT), vault(COPY_VAULT)],
            "plans": [{"region": "ap-northeast-2", "name": "prod-backup",
                       "rules": [daily | (rule or {})]}]}


def facts(**overrides) -> dict:
    """An account that meets every control."""
    selectors = [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                  "DataResources": [{"Type": "AWS::S3::Object",
                                     "Values": [f"arn:aws:s3:::{STATE}/"]}]}]
    base = {
        "trails": [{"name": "prod-trail", "event_selectors": selectors,
                    "advanced_event_selectors": [], "log_group_arn": "arn:lg",
                    "bucket": "b", "multi_region": True}],
        "metric_filters": {"/aws/cloudtrail/prod": [
            {"filter": f"f{i}", "pattern": "{}", "metric": f"CIS/m{i}",
             "alarms": [{"name": f"a{i}", "actions": ["arn:topic"]}]} for i in range(15)]},
        "password_policy": {"MinimumPasswordLength": 14, "PasswordReusePrevention": 24},
        "support_roles": ["prod-support"],
        "vpcs": [{"id": "vpc-1", "default": False, "cidr": "10.0.0.0/16"}],
        "network_acls": [{"id": "acl-1", "default": True, "vpc": "vpc-1",
                          "entries": [tcp_in(443, 443), tcp_in(1024, 3388),
                                      tcp_in(3390, 65535), tcp_in(0, 65535, "10.0.0.0/16"),
                                      DENY_ALL_IN]}],
        "vpc_endpoints": [{"service": "com.amazonaws.x.s3", "type": "Gateway", "policy": {
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
                           "Condition": {"StringEquals": {"aws:PrincipalAccount": "1"}}}]}}],
        "secret_policies": {"prod/atlantis/github-token": {"Statement": []}},
        "registry_scanning": {"scanType": "BASIC", "rules": [{"scanFrequency": "SCAN_ON_PUSH"}]},
        "backup": backup(),
    }
    return base | overrides


def by_control(found: list[Control]) -> dict[str, Control]:
    return {c.control.split(" ")[0]: c for c in found}


def test_an_account_that_meets_every_control():
    found = judge(facts(), STATE)
    assert [c.control for c in found if not c.met] == []
    assert len(found) == 14


@pytest.mark.parametrize(("override", "control", "evidence"), [
    ({"trails": []}, "3.10", "write events False"),
    ({"metric_filters": {"g": []}}, "4.1-4.15", "0 filters"),
    ({"password_policy": {"MinimumPasswordLength": 8, "PasswordReusePrevention": 24}}, "1.8",
     "MinimumPasswordLength 8"),
    ({"password_policy": {"MinimumPasswordLength": 14}}, "1.9", "PasswordReusePrevention 0"),
    ({"support_roles": []}, "1.17", "none"),
    ({"network_acls": [{"id": "acl-1", "default": True, "vpc": "vpc-1",
                        "entries": [ALLOW_ALL_IN]}]}, "5.1", "open: acl-1"),
    ({"network_acls": [{"id": "acl-2", "default": True, "vpc": "vpc-1",
                        "entries": [tcp_in(1024, 65535)]}]}, "5.1", "open: acl-2"),
    ({"vpc_endpoints": [{"service": "s3", "type": "Gateway", "policy": None}]}, "Security",
     "full access: s3"),
    ({"secret_policies": {"s": None}}, "Security", "without a policy: s"),
    ({"registry_scanning": {"scanType": "BASIC", "rules": []}}, "Security", "0 rules"),
    ({"password_policy": {"error": "NoSuchEntity: no policy"}}, "1.8/1.9",
     "the API answered NoSuchEntity"),
    ({"backup": backup({"delete_after_days": 14})}, "AWS Backup plan", "meeting it: none"),
    ({"backup": backup({"schedule": "cron(0 17 ? * SUN *)"})}, "AWS Backup plan",
     "meeting it: none"),
    ({"backup": backup({"schedule": "rate(7 days)"})}, "AWS Backup plan", "meeting it: none"),
    ({"backup": {"vaults": [], "plans": []}}, "AWS Backup plan", "0 rules"),
    ({"backup": backup(vaults=[vault(HOME_VAULT, lock_date=None), vault(COPY_VAULT)])},
     "AWS Backup vaults", "not so: prod-backup"),
    ({"backup": backup(vaults=[vault(HOME_VAULT), vault(COPY_VAULT, key_manager="AWS")])},
     "AWS Backup vaults", "not so: prod-backup-copy"),
    ({"backup": backup(vaults=[vault(HOME_VAULT, locked=False, min_retention_days=None,
                                     lock_date=None), vault(COPY_VAULT)])},
     "AWS Backup vaults", "not so: prod-backup"),
    ({"backup": backup(vaults=[vault(HOME_VAULT)])}, "AWS Backup vaults",
     "not so: a vault not found"),
    ({"backup": backup({"copies": []})}, "AWS Backup cross-Region", "another Region: none"),
    ({"backup": backup({"copies": [{"destination": HOME_VAULT, "delete_after_days": 35}]})},
     "AWS Backup cross-Region", "another Region: none"),
    ({"backup": {"error": "AccessDeniedException: not authorized"}}, "AWS Backup",
     "the API answered AccessDeniedException"),
])
def test_a_wrong_answer_fails_its_control(override, control, evidence):
    failed = [c for c in judge(facts(**override), STATE) if not c.met]
    assert any(c.control.startswith(control) and evidence in c.evidence for c in failed), failed


def test_read_only_events_on_the_state_bucket_meet_3_11_not_3_10():
    selectors = [{"ReadWriteType": "ReadOnly", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{STATE}/"]}]}]
    trail = {**facts()["trails"][0], "event_selectors": selectors}
    found = by_control(judge(facts(trails=[trail]), STATE))
    assert found["3.11"].met and not found["3.10"].met


def test_every_bucket_selector_covers_the_state_bucket():
    selectors = [{"ReadWriteType": "All", "DataResources": [
        {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]
    trail = {**facts()["trails"][0], "event_selectors": selectors}
    assert by_control(judge(facts(trails=[trail]), STATE))["3.10"].met


def test_the_default_vpc_is_reported_apart_from_our_acls():
    vpcs = [*facts()["vpcs"], {"id": "vpc-d", "default": True, "cidr": "172.31.0.0/16"}]
    acls = [*facts()["network_acls"],
            {"id": "acl-d", "default": True, "vpc": "vpc-d", "entries": [ALLOW_ALL_IN]}]
    found = judge(facts(vpcs=vpcs, network_acls=acls), STATE)
    nacl = next(c for c in found if c.control.startswith("5.1"))
    default = next(c for c in found if c.control.startswith("default VPC"))
    assert nacl.met and "open: none" in nacl.evidence
    assert not default.met and "vpc-d" in default.evidence


@pytest.mark.parametrize(("schedule", "daily"), [
    ("cron(0 17 * * ? *)", True), ("cron(0 */6 * * ? *)", True), ("rate(1 day)", True),
    ("rate(12 hours)", True), ("cron(0 17 ? * MON-FRI *)", False), ("cron(0 17 1 * ? *)", False),
    ("rate(2 days)", False), ("cron(0 17 * * ?)", False), (None, False),
])
def test_the_schedule_counts_as_daily_only_when_it_runs_every_day(schedule, daily):
    rule = {"schedule": schedule}
    met = {c.control.split(":")[0]: c.met for c in judge(facts(backup=backup(rule)), STATE)}
    assert met["AWS Backup plan"] is daily
