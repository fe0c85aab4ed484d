"""The CIS AWS Foundations controls read back from the deployed account with boto3,
the way an auditor's scanner reads them: it lists what is there and judges it,
knowing nothing of our code. Run on moto after the pull requests applied every
stack (one deployment serves this and every other check).

`read_back()` returns the raw facts (what each API answered) and `judge()` the
controls each fact meets or fails; the summary carries both, and
tests/integration/test_deploy_local.py asserts them. What moto does not store
is said in MOTO_GAPS and reported as such, never judged as met.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

import boto3.session
from botocore.exceptions import ClientError

CIS_METRIC_FILTERS = 15
"""CIS AWS Foundations Benchmark (v1.5 section 4, 3.0 section 4): 4.1 to 4.15."""
MIN_PASSWORD_LENGTH = 14
"""CIS 1.8."""
PASSWORD_REUSE = 24
"""CIS 1.9."""
ADMIN_PORTS = (22, 3389)
"""CIS 5.1: no network ACL allows ingress from 0.0.0.0/0 to them."""
SUPPORT_POLICY = "AWSSupportAccess"
"""CIS 1.17: a role for incident handling with AWS Support."""
BACKUP_RETENTION_DAYS = 35
"""AWS Backup Audit Manager's "backup plan minimum frequency and minimum retention"
and "minimum retention established for recovery point" controls: [1 day], [35 days]
by default (AWS Backup Developer Guide, choosing-controls.html)."""

MOTO_GAPS: tuple[tuple[str, str], ...] = (
    ("Secrets Manager resource policies in authorization",
     "moto stores and returns them but authorizes GetSecretValue by identity policy "
     "only (moto/iam/access_control.py: resource-based policies are a TODO)"),
    ("Secrets Manager BlockPublicPolicy",
     "moto accepts a public Allow policy with it set"),
    ("network ACL ICMP type and code",
     "moto's CreateNetworkAclEntry reads Icmp.Code/Icmp.Type, not the IcmpTypeCode the API "
     "sends, so an ICMP entry reads back without them (none of ours is ICMP)"),
    ("S3 Object Lock on a bucket that holds objects",
     "moto refuses PutObjectLockConfiguration unless the bucket is empty (S3 allows it on "
     "any versioned bucket); the trail bucket is empty on moto, whose trail delivers nothing"),
    ("AWS Backup selections (what the plan backs up)",
     "moto 5.2.5 serves no CreateBackupSelection or ListBackupSelections, so the selection is "
     "excluded from the local deploy and not read back; its resources and tag condition are "
     "asserted on the JSON (tests/stacks/test_bootstrap.py)"),
    ("AWS Backup vault locks in action",
     "moto stores a lock (Locked, MinRetentionDays, LockDate) but runs no backup job, so no "
     "recovery point exists to be refused deletion, and it deletes a locked vault"),
)
"""Settings moto keeps but does not act on; the read-back reports them as stored."""


@dataclass(frozen=True)
class Control:
    """One control as the read-back judged it."""

    control: str
    """The CIS number and title, e.g. `1.8 password length`."""
    met: bool
    evidence: str
    """What the API answered that decides it."""


AUDITOR_USER = "local-auditor"
AUDITOR_POLICY = "SecurityAudit"
"""The AWS managed policy auditors' scanners are given: reads of the security
configuration, no data and no writes (moto loads it and authorizes by it)."""


def auditor_credentials(iam) -> dict[str, str]:
    """An IAM user with only SecurityAudit, created with `iam` (an administrator's
    client), as AWS_* variables: the read-back runs with what an auditor gets."""
    partition = iam.get_user()["User"]["Arn"].split(":")[1]  # the administrator's own
    iam.create_user(UserName=AUDITOR_USER)
    iam.attach_user_policy(UserName=AUDITOR_USER,
                           PolicyArn=f"arn:{partition}:iam::aws:policy/{AUDITOR_POLICY}")
    key = iam.create_access_key(UserName=AUDITOR_USER)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def read_back(client: Callable[..., object]) -> dict[str, object]:
    """The facts, one entry per API family; `client(service)` gives a boto3 client
    of the home Region with an auditor's (read-only in spirit) credentials, and
    `client(service, region)` one of another Region."""
    facts: dict[str, object] = {}
    for name, reader in READERS.items():
        try:
            facts[name] = reader(client)
        except ClientError as error:
            facts[name] = {"error": f"{error.response['Error'].get('Code')}: "
                                    f"{error.response['Error'].get('Message')}"}
    return facts


def _trails(client) -> list[dict]:
    cloudtrail = client("cloudtrail")
    trails = []
    for trail in cloudtrail.describe_trails()["trailList"]:
        selectors = cloudtrail.get_event_selectors(TrailName=trail["TrailARN"])
        trails.append({
            "name": trail["Name"],
            "bucket": trail.get("S3BucketName"),
            "log_group_arn": trail.get("CloudWatchLogsLogGroupArn"),
            "multi_region": trail.get("IsMultiRegionTrail"),
            "event_selectors": selectors.get("EventSelectors", []),
            "advanced_event_selectors": selectors.get("AdvancedEventSelectors", []),
        })
    return trails


def _metric_filters(client) -> dict[str, list[dict]]:
    """Every trail log group's metric filters, each with the alarms on its metric."""
    logs, cloudwatch = client("logs"), client("cloudwatch")
    found = {}
    for trail in client("cloudtrail").describe_trails()["trailList"]:
        arn = trail.get("CloudWatchLogsLogGroupArn")
        if not arn:
            continue
        group = arn.split(":log-group:", 1)[1].removesuffix(":*")
        filters = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
        rows = []
        for item in filters:
            metric = item["metricTransformations"][0]
            alarms = cloudwatch.describe_alarms_for_metric(
                MetricName=metric["metricName"], Namespace=metric["metricNamespace"])
            rows.append({
                "filter": item["filterName"],
                "pattern": item["filterPattern"],
                "metric": f"{metric['metricNamespace']}/{metric['metricName']}",
                "alarms": [{"name": a["AlarmName"], "actions": a.get("AlarmActions", [])}
                           for a in alarms["MetricAlarms"]],
            })
        found[group] = rows
    return found


def _password_policy(client) -> dict:
    return client("iam").get_account_password_policy()["PasswordPolicy"]


def _support_roles(client) -> list[str]:
    iam = client("iam")
    partition = client("sts").get_caller_identity()["Arn"].split(":")[1]
    entities = iam.list_entities_for_policy(
        PolicyArn=f"arn:{partition}:iam::aws:policy/{SUPPORT_POLICY}")
    return sorted(role["RoleName"] for role in entities["PolicyRoles"])


def _network_acls(client) -> list[dict]:
    acls = client("ec2").describe_network_acls()["NetworkAcls"]
    return [{"id": acl["NetworkAclId"], "default": acl["IsDefault"], "vpc": acl["VpcId"],
             "entries": acl["Entries"]} for acl in acls]


def _vpcs(client) -> list[dict]:
    return [{"id": vpc["VpcId"], "default": vpc.get("IsDefault", False),
             "cidr": vpc["CidrBlock"]} for vpc in client("ec2").describe_vpcs()["Vpcs"]]


def _vpc_endpoints(client) -> list[dict]:
    endpoints = client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
    return [{"service": e["ServiceName"], "type": e["VpcEndpointType"],
             "policy": json.loads(e["PolicyDocument"]) if e.get("PolicyDocument") else None}
            for e in endpoints]


def _secret_policies(client) -> dict[str, object]:
    """Our secrets' resource policies by name. Secrets another AWS service owns
    (`OwningService`, e.g. the RDS master password RDS manages) are left out:
    their owner manages them, and a deny to every principal would stop its
    rotation."""
    secrets = client("secretsmanager")
    found = {}
    for secret in secrets.list_secrets()["SecretList"]:
        if secret.get("OwningService"):
            continue
        policy = secrets.get_resource_policy(SecretId=secret["ARN"]).get("ResourcePolicy")
        found[secret["Name"]] = json.loads(policy) if policy else None
    return found


def _registry_scanning(client) -> dict:
    answer = client("ecr").get_registry_scanning_configuration()
    return answer.get("scanningConfiguration", {})


def _when(value: object) -> str | None:
    """A timestamp boto3 parsed, as ISO text (the summary is JSON)."""
    return value.isoformat() if hasattr(value, "isoformat") else value  # type: ignore[union-attr]


def _enabled_regions(client) -> list[str]:
    """The Regions DescribeRegions names that are enabled and of the caller's
    partition: what AWS answers by default. moto 5.2.5 also lists the Regions not
    opted in and those of the other partitions (aws-cn, aws-us-gov), where the
    caller's keys do not exist."""
    partition = client("sts").get_caller_identity()["Arn"].split(":")[1]
    in_partition = set(boto3.session.Session().get_available_regions(
        "ec2", partition_name=partition))
    return sorted(r["RegionName"] for r in client("ec2").describe_regions()["Regions"]
                  if r.get("OptInStatus") != "not-opted-in" and r["RegionName"] in in_partition)


def _backup(client) -> dict[str, list[dict]]:
    """Every Region's backup vaults (with their key's manager and their lock) and plans
    (with their rules and copy actions): an auditor does not know where copies go."""
    regions = _enabled_regions(client)
    vaults, plans = [], []
    for region in regions:
        backup = client("backup", region)
        for vault in backup.list_backup_vaults()["BackupVaultList"]:
            key = vault.get("EncryptionKeyArn")
            manager = (client("kms", region).describe_key(KeyId=key)["KeyMetadata"]
                       .get("KeyManager") if key else None)
            vaults.append({
                "region": region, "name": vault["BackupVaultName"],
                "arn": vault["BackupVaultArn"], "key_arn": key, "key_manager": manager,
                "locked": vault.get("Locked", False),
                "min_retention_days": vault.get("MinRetentionDays"),
                "max_retention_days": vault.get("MaxRetentionDays"),
                # Set only in compliance mode: the date the lock became immutable.
                "lock_date": _when(vault.get("LockDate")),
            })
        for listed in backup.list_backup_plans()["BackupPlansList"]:
            document = backup.get_backup_plan(BackupPlanId=listed["BackupPlanId"])["BackupPlan"]
            plans.append({"region": region, "name": document["BackupPlanName"], "rules": [{
                "name": rule["RuleName"], "vault": rule["TargetBackupVaultName"],
                "schedule": rule.get("ScheduleExpression"),
                "delete_after_days": (rule.get("Lifecycle") or {}).get("DeleteAfterDays"),
                "copies": [{"destination": copy["DestinationBackupVaultArn"],
                            "delete_after_days": (copy.get("Lifecycle") or {}).get(
                                "DeleteAfterDays")}
                           for copy in rule.get("CopyActions", [])],
            } for rule in document.get("Rules", [])]})
    return {"vaults": vaults, "plans": plans}


READERS: dict[str, Callable] = {
    "trails": _trails,
    "metric_filters": _metric_filters,
    "password_policy": _password_policy,
    "support_roles": _support_roles,
    "vpcs": _vpcs,
    "network_acls": _network_acls,
    "vpc_endpoints": _vpc_endpoints,
    "secret_policies": _secret_policies,
    "registry_scanning": _registry_scanning,
    "backup": _backup,
}


# --- judging --------------------------------------------------------------------------
def judge(facts: dict[str, object], state_bucket: str) -> list[Control]:
    """Each control met or not, from the facts alone (and the name of the state
    bucket, whose object-level logging CIS 3.10/3.11 asks for)."""
    controls: list[Control] = []
    for check in JUDGES:
        controls += check(facts, state_bucket)
    return controls


def _failed_read(facts: dict, name: str, control: str) -> list[Control]:
    answer = facts.get(name)
    if isinstance(answer, dict) and "error" in answer:
        return [Control(control, False, f"the API answered {answer['error']}")]
    return []


def _data_events(facts, state_bucket) -> list[Control]:
    failed = _failed_read(facts, "trails", "3.10/3.11 S3 object-level logging")
    if failed:
        return failed
    read = write = False
    for trail in facts["trails"]:
        for selector in trail["event_selectors"]:
            for resource in selector.get("DataResources", []):
                if resource.get("Type") != "AWS::S3::Object":
                    continue
                # `arn:<partition>:s3:::<bucket>/<prefix>`, or `arn:<partition>:s3` (every bucket)
                buckets = {value.split(":::", 1)[1].split("/", 1)[0] if ":::" in value else ""
                           for value in resource.get("Values", [])}
                if state_bucket in buckets or "" in buckets:
                    kind = selector.get("ReadWriteType", "All")
                    read |= kind in ("All", "ReadOnly")
                    write |= kind in ("All", "WriteOnly")
    evidence = f"state bucket {state_bucket}: read events {read}, write events {write}"
    return [Control("3.10 S3 object-level logging for write events", write, evidence),
            Control("3.11 S3 object-level logging for read events", read, evidence)]


def _metric_filter_controls(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "metric_filters", "4.1-4.15 metric filters and alarms")
    if failed:
        return failed
    rows = [row for group in facts["metric_filters"].values() for row in group]
    alarmed = [row for row in rows if any(alarm["actions"] for alarm in row["alarms"])]
    return [Control(
        f"4.1-4.15 metric filters with alarms on the trail's log group (CIS: {CIS_METRIC_FILTERS})",
        len(alarmed) >= CIS_METRIC_FILTERS,
        f"{len(rows)} filters, {len(alarmed)} with an alarm that notifies")]


def _password_controls(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "password_policy", "1.8/1.9 password policy")
    if failed:
        return failed
    policy = facts["password_policy"]
    length = policy.get("MinimumPasswordLength", 0)
    reuse = policy.get("PasswordReusePrevention", 0)
    return [Control("1.8 password length", length >= MIN_PASSWORD_LENGTH,
                    f"MinimumPasswordLength {length}"),
            Control("1.9 password reuse", reuse >= PASSWORD_REUSE,
                    f"PasswordReusePrevention {reuse}")]


def _support_control(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "support_roles", "1.17 support role")
    if failed:
        return failed
    roles = facts["support_roles"]
    return [Control("1.17 support role", bool(roles),
                    f"roles with {SUPPORT_POLICY}: {', '.join(roles) or 'none'}")]


def _opens_admin_port(entry: dict) -> bool:
    if entry.get("Egress") or entry.get("RuleAction") != "allow":
        return False
    if entry.get("CidrBlock") != "0.0.0.0/0" and entry.get("Ipv6CidrBlock") != "::/0":
        return False
    if str(entry.get("Protocol")) == "-1":
        return True
    if str(entry.get("Protocol")) != "6":
        return False
    ports = entry.get("PortRange") or {}
    return any(ports.get("From", 0) <= port <= ports.get("To", 65535) for port in ADMIN_PORTS)


def _nacl_control(facts, _state_bucket) -> list[Control]:
    """CIS 5.1 on the ACLs of the VPCs Terraform created. The Region's default VPC
    (AWS creates one per Region, moto too) is reported on its own: it is deleted
    by hand, not managed (README, governance), since `aws_default_vpc` would
    create one again where it was deleted."""
    failed = _failed_read(facts, "network_acls", "5.1 network ACLs") or _failed_read(
        facts, "vpcs", "5.1 network ACLs")
    if failed:
        return failed
    default_vpcs = {vpc["id"] for vpc in facts["vpcs"] if vpc["default"]}
    ours = [acl for acl in facts["network_acls"] if acl["vpc"] not in default_vpcs]
    open_ = sorted({acl["id"] for acl in ours
                    if any(_opens_admin_port(entry) for entry in acl["entries"])})
    return [
        Control("5.1 no network ACL ingress from 0.0.0.0/0 to 22 or 3389", bool(ours) and not open_,
                f"{len(ours)} ACLs outside the default VPC; open: {', '.join(open_) or 'none'}"),
        Control("default VPC of the Region deleted (by hand, README runbook)", not default_vpcs,
                f"default VPCs: {', '.join(sorted(default_vpcs)) or 'none'}"),
    ]


def _full_access(policy: dict | None) -> bool:
    """The policy AWS gives an endpoint without one: Allow * on * to *, unconditioned."""
    if not policy:
        return True
    for statement in policy.get("Statement", []):
        if (statement.get("Effect") == "Allow" and statement.get("Principal") in ("*", {"AWS": "*"})
                and statement.get("Action") in ("*", ["*"]) and not statement.get("Condition")
                and statement.get("Resource", "*") in ("*", ["*"])):
            return True
    return False


def _endpoint_control(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "vpc_endpoints", "VPC endpoint policies")
    if failed:
        return failed
    full = [e["service"] for e in facts["vpc_endpoints"] if _full_access(e["policy"])]
    return [Control("Security Hub EC2.* VPC endpoints limited by policy",
                    bool(facts["vpc_endpoints"]) and not full,
                    f"{len(facts['vpc_endpoints'])} endpoints; full access: "
                    f"{', '.join(full) or 'none'}")]


def _secret_control(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "secret_policies", "secret resource policies")
    if failed:
        return failed
    without = sorted(name for name, policy in facts["secret_policies"].items() if not policy)
    # An account without secrets (an environment without an Atlantis server of its
    # own) has nothing to limit: the control holds.
    return [Control("Security Hub SecretsManager secrets limited by a resource policy",
                    not without,
                    f"{len(facts['secret_policies'])} secrets; without a policy: "
                    f"{', '.join(without) or 'none'}")]


def _registry_control(facts, _state_bucket) -> list[Control]:
    failed = _failed_read(facts, "registry_scanning", "ECR registry scanning")
    if failed:
        return failed
    rules = facts["registry_scanning"].get("rules", [])
    return [Control("Security Hub ECR.1 registry scanning configured", bool(rules),
                    f"scan type {facts['registry_scanning'].get('scanType')}, "
                    f"{len(rules)} rules")]


def _at_least_daily(expression: object) -> bool:
    """A schedule that runs every day or more often: `cron(m h * * ? *)`-like (every
    day of every month) or `rate(<n> minutes|hours)` / `rate(1 day)`."""
    if not isinstance(expression, str):
        return False
    if expression.startswith("cron(") and expression.endswith(")"):
        fields = expression[5:-1].split()
        return (len(fields) == 6 and fields[2] in ("*", "?") and fields[3] == "*"
                and fields[4] in ("*", "?"))
    if expression.startswith("rate(") and expression.endswith(")"):
        amount, _, unit = expression[5:-1].partition(" ")
        return unit.startswith(("minute", "hour")) or (unit.startswith("day") and amount == "1")
    return False


def _backup_controls(facts, _state_bucket) -> list[Control]:
    """AWS Backup Audit Manager's controls, read from the plans and vaults: a plan
    rule at least daily keeping recovery points 35 days; the vaults the rules write
    to (home and copies) encrypted with a customer managed key and locked in
    compliance mode with a minimum retention; a copy to another Region."""
    failed = _failed_read(facts, "backup", "AWS Backup plan, vaults and copies")
    if failed:
        return failed
    vaults = {v["arn"]: v for v in facts["backup"]["vaults"]}
    by_name = {(v["region"], v["name"]): v for v in vaults.values()}
    rules = [(plan, rule) for plan in facts["backup"]["plans"] for rule in plan["rules"]]
    kept = [f"{plan['name']}/{rule['name']}" for plan, rule in rules
            if _at_least_daily(rule["schedule"])
            and (rule["delete_after_days"] is None
                 or rule["delete_after_days"] >= BACKUP_RETENTION_DAYS)]
    targets = [by_name.get((plan["region"], rule["vault"])) for plan, rule in rules]
    targets += [vaults.get(copy["destination"]) for _, rule in rules for copy in rule["copies"]]
    weak = sorted({v["name"] if v else "a vault not found" for v in targets
                   if v is None or v["key_manager"] != "CUSTOMER" or not v["locked"]
                   or v["lock_date"] is None or v["min_retention_days"] is None})
    elsewhere = sorted({f"{plan['name']}/{rule['name']} -> {copy['destination']}"
                        for plan, rule in rules for copy in rule["copies"]
                        if copy["destination"].split(":")[3:4] != [plan["region"]]
                        and copy["destination"] in vaults})
    return [
        Control(f"AWS Backup plan: a rule at least daily keeping recovery points "
                f"{BACKUP_RETENTION_DAYS} days or more", bool(kept),
                f"{len(rules)} rules; meeting it: {', '.join(kept) or 'none'}"),
        Control("AWS Backup vaults written to: customer managed key, compliance vault lock "
                "with a minimum retention", bool(targets) and not weak,
                f"target vaults: {', '.join(sorted({v['name'] for v in targets if v})) or 'none'};"
                f" not so: {', '.join(weak) or 'none'}"),
        Control("AWS Backup cross-Region copy scheduled", bool(elsewhere),
                f"copies to another Region: {'; '.join(elsewhere) or 'none'}"),
    ]


JUDGES = (_data_events, _metric_filter_controls, _password_controls, _support_control,
          _nacl_control, _endpoint_control, _secret_control, _registry_control,
          _backup_controls)


def report(facts: dict[str, object], controls: list[Control]) -> dict[str, object]:
    """What the deploy summary carries."""
    return {"facts": facts, "controls": [asdict(c) for c in controls],
            "moto_gaps": [{"what": w, "reason": r} for w, r in MOTO_GAPS]}
