"""MySQL RDS instance hardened as the reference requires (KMS, Multi-AZ, TLS, backups)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.db_instance import DbInstance
from cdktf_cdktf_provider_aws.db_parameter_group import (
    DbParameterGroup,
    DbParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.policy_document import Condition, PolicyStatement, Principal, policy_document
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import KeyRef, SecurityGroupRef, SubnetsRef
from constructs_lib.tags import RequiredTags

ENGINE_VERSION = re.compile(r"^8\.(0|4)(\.\d+)?$")
MASTER_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
DEFAULT_MASTER_USERNAME = "dbmaster"
# RDS's default for MySQL: whoever tries to log in knows half of the login
# already (Security Hub RDS.25, "custom administrator username", fails on it).
WELL_KNOWN_USERNAMES = frozenset({"admin"})
PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_.-]*$")
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
MIN_BACKUP_RETENTION_DAYS = 7
LOG_EXPORTS = ["audit", "error", "general", "slowquery"]
MONITORING_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
# Parameters the construct owns: a caller override would weaken TLS.
OWNED_PARAMETERS = {"require_secure_transport": "ON"}

# Rule ids of the checks a weakening would trip (checkov ids, so the waiver
# names the exact finding it explains).
RULE_DELETION_PROTECTION = "CKV_AWS_293"
RULE_MULTI_AZ = "CKV_AWS_157"
RULE_PREVENT_DESTROY = "PRO001"


@dataclass(frozen=True, kw_only=True)
class RdsInstanceProps:
    name: str
    """DB identifier: kebab-case, starting with `<environment>-`, at most 63
    characters. Also names the subnet group, parameter group, monitoring role
    and the final snapshot (`<name>-final`)."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    kms_key: KeyRef
    """Customer-managed key for storage encryption."""
    master_user_secret_kms_key: KeyRef
    """Customer-managed key for the RDS-managed master password secret."""
    subnets: SubnetsRef
    """Private subnets (at least two AZs) for the DB subnet group."""
    security_groups: list[SecurityGroupRef]
    """Security groups of the instance (at least one)."""
    performance_insights_kms_key: KeyRef | None = None
    """Key for Performance Insights data. When left out, `kms_key` is used."""
    engine_version: str = "8.0"
    """MySQL version (8.0 or 8.4, optionally with a patch level). The major
    version picks the parameter group family (`mysql8.0`)."""
    instance_class: str = "db.t3.medium"
    """DB instance class (`db.*`). Left out: db.t3.medium."""
    allocated_storage: int = 20
    """Initial gp3 storage in GiB (20 to 65536)."""
    max_allocated_storage: int = 100
    """Storage autoscaling ceiling in GiB; must be at least `allocated_storage`."""
    backup_retention_period: int = 7
    """Days of automated backups, 7 to 35."""
    backup_window: str | None = None
    """Daily backup window (UTC, `hh24:mi-hh24:mi`). When left out, AWS picks one."""
    maintenance_window: str | None = None
    """Weekly maintenance window (`ddd:hh24:mi-ddd:hh24:mi`). When left out, AWS picks one."""
    port: int = 3306
    """Listener port, 1150 to 65535. Left out: 3306 (MySQL's default)."""
    master_username: str = DEFAULT_MASTER_USERNAME
    """Master user name (a letter, then up to 15 letters, digits or underscores;
    not RDS's default `admin`). Fixed when the instance is created: RDS cannot
    rename it, so a new value replaces the instance, which `prevent_destroy`
    stops at plan time."""
    db_name: str | None = None
    """Initial database to create. When left out, no database is created."""
    parameters: Mapping[str, str] = field(default_factory=dict)
    """Extra MySQL parameters, applied at the next reboot. When left out, only
    `require_secure_transport=ON` is set; that one cannot be overridden."""
    monitoring_interval: int = 60
    """Enhanced Monitoring interval in seconds (1, 5, 10, 15, 30 or 60)."""
    apply_immediately: bool = False
    """When left out, modifications wait for the maintenance window."""
    enable_multi_az: bool = True
    """Standby in a second AZ. Turning it off requires `multi_az_off_reason`."""
    multi_az_off_reason: str | None = None
    """Needed when `enable_multi_az` is False; recorded as waiver CKV_AWS_157.
    Left out: Multi-AZ cannot be turned off."""
    enable_deletion_protection: bool = True
    """Turning it off requires `deletion_protection_off_reason`."""
    deletion_protection_off_reason: str | None = None
    """Needed when `enable_deletion_protection` is False; recorded as waiver
    CKV_AWS_293. Left out: deletion protection cannot be turned off."""
    allow_destroy_reason: str | None = None
    """When left out, Terraform refuses to destroy the instance
    (`prevent_destroy`). Set it to a reason to allow destroying it."""


class RdsInstance(Construct):
    """A Multi-AZ MySQL instance with its subnet group, TLS-only parameter
    group and Enhanced Monitoring role."""

    def __init__(self, scope: Construct, id: str, props: RdsInstanceProps):
        super().__init__(scope, id)
        self.props = props
        _validate(props, self.node.path)
        name = props.name
        family = "mysql" + ".".join(props.engine_version.split(".")[:2])

        self.subnet_group = DbSubnetGroup(
            self, "subnet-group",
            name=name,
            description=f"Private subnets of {name}",
            subnet_ids=props.subnets.ids,
            tags=props.tags.resource_tags(name),
        )
        parameters = {
            **{key: (value, "pending-reboot") for key, value in props.parameters.items()},
            # Dynamic parameter: takes effect without a reboot.
            **{key: (value, "immediate") for key, value in OWNED_PARAMETERS.items()},
        }
        parameter_group_name = f"{name}-{family.replace('.', '')}"
        self.parameter_group = DbParameterGroup(
            self, "parameter-group",
            name=parameter_group_name,
            family=family,
            description=f"TLS-only MySQL parameters of {name}",
            parameter=[
                DbParameterGroupParameter(name=key, value=value, apply_method=method)
                for key, (value, method) in sorted(parameters.items())
            ],
            tags=props.tags.resource_tags(parameter_group_name),
        )

        monitoring_role_name = f"{name}-monitoring"
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        region = DataAwsRegion(self, "region").name
        # Enhanced Monitoring may assume the role only for this instance of this
        # account: the trust the RDS User Guide recommends against the confused
        # deputy problem ("Setting up and enabling Enhanced Monitoring",
        # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html#USER_Monitoring.OS.confused-deputy).
        # The ARN is built from the identifier: the instance needs the role first.
        instance_arn = f"arn:{partition}:rds:{region}:{account_id}:db:{name}"
        trust = policy_document(self, "monitoring-trust", (PolicyStatement(
            actions=("sts:AssumeRole",),
            principals=(Principal(type="Service", identifiers=("monitoring.rds.amazonaws.com",)),),
            conditions=(
                Condition(test="StringEquals", variable="aws:SourceAccount", values=(account_id,)),
                Condition(test="ArnLike", variable="aws:SourceArn", values=(instance_arn,)),
            ),
        ),))
        self.monitoring_role = IamRole(
            self, "monitoring-role",
            name=monitoring_role_name,
            description=f"Enhanced Monitoring of {name}",
            assume_role_policy=trust.json,
            tags=props.tags.resource_tags(monitoring_role_name),
        )
        IamRolePolicyAttachment(
            self, "monitoring-policy",
            role=self.monitoring_role.name,
            policy_arn=MONITORING_POLICY_ARN,
        )

        pi_key = props.performance_insights_kms_key or props.kms_key
        self.instance = DbInstance(
            self, "instance",
            identifier=name,
            engine="mysql",
            engine_version=props.engine_version,
            instance_class=props.instance_class,
            allocated_storage=props.allocated_storage,
            max_allocated_storage=props.max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=props.kms_key.arn,
            username=props.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.master_user_secret_kms_key.arn,
            db_name=props.db_name,
            port=props.port,
            db_subnet_group_name=self.subnet_group.name,
            parameter_group_name=self.parameter_group.name,
            vpc_security_group_ids=[group.id for group in props.security_groups],
            publicly_accessible=False,
            multi_az=props.enable_multi_az,
            deletion_protection=props.enable_deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{name}-final",
            backup_retention_period=props.backup_retention_period,
            backup_window=props.backup_window,
            maintenance_window=props.maintenance_window,
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            apply_immediately=props.apply_immediately,
            iam_database_authentication_enabled=True,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=pi_key.arn,
            performance_insights_retention_period=7,
            monitoring_interval=props.monitoring_interval,
            monitoring_role_arn=self.monitoring_role.arn,
            tags=props.tags.resource_tags(name),
            lifecycle=None if props.allow_destroy_reason else {"prevent_destroy": True},
        )
        where = self.node.path
        if props.allow_destroy_reason:
            waivers.record(self.instance, RULE_PREVENT_DESTROY, props.allow_destroy_reason,
                           where=where)
        if not props.enable_multi_az:
            waivers.record(self.instance, RULE_MULTI_AZ, props.multi_az_off_reason, where=where)
        if not props.enable_deletion_protection:
            waivers.record(self.instance, RULE_DELETION_PROTECTION,
                           props.deletion_protection_off_reason, where=where)

    @property
    def identifier(self) -> str:
        return self.instance.identifier

    @property
    def arn(self) -> str:
        return self.instance.arn

    @property
    def endpoint(self) -> str:
        """`host:port` of the instance."""
        return self.instance.endpoint

    @property
    def address(self) -> str:
        """Host name of the instance."""
        return self.instance.address

    @property
    def port(self) -> float:
        return self.instance.port

    @property
    def master_user_secret_arn(self) -> str:
        """ARN of the Secrets Manager secret RDS manages for the master user."""
        return self.instance.master_user_secret.get(0).secret_arn


def _validate(props: RdsInstanceProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=63)
    if not ENGINE_VERSION.match(props.engine_version):
        problems.add("engine_version", props.engine_version,
                     "allowed are MySQL 8.0 or 8.4 versions such as '8.0' or '8.0.39'")
    if not props.instance_class.startswith("db."):
        problems.add("instance_class", props.instance_class,
                     "allowed are DB instance classes such as 'db.t3.medium'")
    if not 20 <= props.allocated_storage <= 65536:
        problems.add("allocated_storage", props.allocated_storage, "allowed is 20 to 65536 GiB")
    if props.max_allocated_storage < props.allocated_storage:
        problems.add("max_allocated_storage", props.max_allocated_storage,
                     f"allowed is at least allocated_storage ({props.allocated_storage})")
    if not MIN_BACKUP_RETENTION_DAYS <= props.backup_retention_period <= 35:
        problems.add("backup_retention_period", props.backup_retention_period,
                     f"allowed is {MIN_BACKUP_RETENTION_DAYS} to 35 days")
    if props.monitoring_interval not in MONITORING_INTERVALS:
        problems.add("monitoring_interval", props.monitoring_interval,
                     f"allowed are {', '.join(map(str, MONITORING_INTERVALS))} seconds")
    if not 1150 <= props.port <= 65535:
        problems.add("port", props.port, "allowed is 1150 to 65535")
    if not MASTER_USERNAME.match(props.master_username):
        problems.add("master_username", props.master_username,
                     "allowed is a letter followed by up to 15 letters, digits or underscores")
    elif props.master_username.lower() in WELL_KNOWN_USERNAMES:
        problems.add("master_username", props.master_username,
                     "allowed is any name but RDS's default 'admin' (Security Hub RDS.25): "
                     f"leave it out for {DEFAULT_MASTER_USERNAME!r}")
    if props.db_name is not None and not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,63}$", props.db_name):
        problems.add("db_name", props.db_name,
                     "allowed is a letter followed by up to 63 letters, digits or underscores")
    if not props.subnets.ids:
        problems.add("subnets.ids", props.subnets.ids, "at least one subnet is required")
    if not props.security_groups:
        problems.add("security_groups", props.security_groups,
                     "at least one security group is required")
    for key, value in props.parameters.items():
        if key in OWNED_PARAMETERS:
            problems.add(f"parameters[{key!r}]", value,
                         f"the construct always sets {key}={OWNED_PARAMETERS[key]}")
        elif not PARAMETER_NAME.match(key) or not isinstance(value, str):
            problems.add(f"parameters[{key!r}]", value,
                         "allowed are MySQL parameter names with string values")
    if not props.enable_multi_az:
        check_reason(problems, "multi_az_off_reason", props.multi_az_off_reason,
                     required_for="turning the protection off")
    if not props.enable_deletion_protection:
        check_reason(problems, "deletion_protection_off_reason",
                     props.deletion_protection_off_reason,
                     required_for="turning the protection off")
    check_reason(problems, "allow_destroy_reason", props.allow_destroy_reason)
    problems.raise_if_any()
