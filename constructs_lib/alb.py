"""Application load balancer: HTTPS only (TLS 1.2+), HTTP redirected, invalid headers dropped."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHostHeader,
    LbListenerRuleConditionPathPattern,
    LbListenerRuleConditionSourceIp,
)
from cdktf_cdktf_provider_aws.lb_target_group import (
    LbTargetGroup,
    LbTargetGroupHealthCheck,
)
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import is_kebab, is_unresolved, parse_cidr
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import CertificateRef, SecurityGroupRef, SubnetsRef, VpcRef
from constructs_lib.tags import RequiredTags

# ELB security policies that negotiate TLS 1.2 or newer only.
TLS12_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)
DESYNC_MODES = ("defensive", "strictest")
TARGET_TYPES = ("ip", "instance")
MAX_LB_NAME = 32
RULE_DELETION_PROTECTION = "CKV_AWS_150"
MAX_CONDITION_VALUES = 5
"""Condition values one listener rule may hold in all (Elastic Load Balancing
quotas: "Condition values per rule")."""


@dataclass(frozen=True, kw_only=True)
class ApplicationLoadBalancerProps:
    name: str
    """Load balancer name: kebab-case, starting with `<environment>-`, at most 32 characters."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    subnets: SubnetsRef
    """Subnets in at least two AZs (public subnets for an internet-facing ALB)."""
    security_groups: list[SecurityGroupRef]
    """Security groups of the load balancer (at least one)."""
    certificate: CertificateRef
    """ACM certificate of the HTTPS listener."""
    internal: bool = False
    """When left out, the load balancer is internet-facing."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener; only TLS 1.2+ policies are accepted."""
    desync_mitigation_mode: str = "defensive"
    """'defensive' or 'strictest'."""
    idle_timeout: int = 60
    """Seconds a connection may idle, 1 to 4000."""
    access_logs_bucket: str | None = None
    """Name of an S3 bucket for access logs (ALB log delivery supports SSE-S3
    buckets only). When left out, access logging is off."""
    access_logs_prefix: str | None = None
    """Key prefix inside `access_logs_bucket`. When left out, logs go to the bucket root."""
    enable_deletion_protection: bool = True
    """Turning it off requires `deletion_protection_off_reason`."""
    deletion_protection_off_reason: str | None = None
    """Needed when `enable_deletion_protection` is False; recorded as waiver
    CKV_AWS_150. Left out: deletion protection cannot be turned off."""


class ApplicationLoadBalancer(Construct):
    """An ALB with an HTTPS listener on 443 and an HTTP listener on 80 that
    redirects to it.

    Until a default target group is added with `add_target_group`, the HTTPS
    listener answers 404.
    """

    def __init__(self, scope: Construct, id: str, props: ApplicationLoadBalancerProps):
        super().__init__(scope, id)
        self.props = props
        _validate(props, self.node.path)
        tags = props.tags

        self.lb = Lb(
            self, "lb",
            name=props.name,
            load_balancer_type="application",
            internal=props.internal,
            subnets=props.subnets.ids,
            security_groups=[group.id for group in props.security_groups],
            drop_invalid_header_fields=True,
            desync_mitigation_mode=props.desync_mitigation_mode,
            enable_deletion_protection=props.enable_deletion_protection,
            idle_timeout=props.idle_timeout,
            access_logs=LbAccessLogs(
                bucket=props.access_logs_bucket,
                prefix=props.access_logs_prefix,
                enabled=True,
            ) if props.access_logs_bucket else None,
            tags=tags.resource_tags(props.name),
        )
        if not props.enable_deletion_protection:
            waivers.record(self.lb, RULE_DELETION_PROTECTION,
                           props.deletion_protection_off_reason, where=self.node.path)

        self.https_listener = LbListener(
            self, "https",
            load_balancer_arn=self.lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=props.ssl_policy,
            certificate_arn=props.certificate.arn,
            default_action=[LbListenerDefaultAction(
                type="fixed-response",
                fixed_response=LbListenerDefaultActionFixedResponse(
                    content_type="text/plain", message_body="Not found", status_code="404"),
            )],
            tags=tags.resource_tags(f"{props.name}-https"),
        )
        self.http_listener = LbListener(
            self, "http",
            load_balancer_arn=self.lb.arn,
            port=80,
            protocol="HTTP",
            default_action=[LbListenerDefaultAction(
                type="redirect",
                redirect=LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port="443", status_code="HTTP_301"),
            )],
            tags=tags.resource_tags(f"{props.name}-http"),
        )
        self.target_groups: dict[str, LbTargetGroup] = {}
        self._has_default_target = False

    @property
    def arn(self) -> str:
        return self.lb.arn

    @property
    def dns_name(self) -> str:
        return self.lb.dns_name

    @property
    def zone_id(self) -> str:
        """Hosted zone id of the load balancer, for Route 53 alias records."""
        return self.lb.zone_id

    def add_target_group(
        self,
        name: str,
        port: int,
        health_check_path: str,
        vpc: VpcRef,
        target_type: str = "ip",
        *,
        host_headers: tuple[str, ...] = (),
        path_patterns: tuple[str, ...] = (),
        priority: int | None = None,
    ) -> LbTargetGroup:
        """Create an HTTP target group (health check expects 200 on
        `health_check_path`) and route HTTPS traffic to it.

        Without `host_headers`/`path_patterns` it becomes the HTTPS listener's
        default action (one per load balancer); with them, a listener rule at
        `priority` (1 to 50000, required then) forwards matching requests.
        """
        problems = Problems(self.node.path)
        if is_unresolved(name):
            # The name keys the construct id and the listener rule, so it must be known now.
            problems.add("add_target_group name", name, "allowed is a literal name, not a token")
        check_name(problems, "add_target_group name", name, self.props.tags.environment,
                   max_length=MAX_LB_NAME)
        if name in self.target_groups:
            problems.add("add_target_group name", name, "each target group name may be used once")
        if not 1 <= port <= 65535:
            problems.add("add_target_group port", port, "allowed is 1 to 65535")
        if not health_check_path.startswith("/"):
            problems.add("add_target_group health_check_path", health_check_path,
                         "allowed is an absolute path such as '/healthz'")
        if target_type not in TARGET_TYPES:
            problems.add("add_target_group target_type", target_type,
                         f"allowed are {', '.join(TARGET_TYPES)}")
        conditional = bool(host_headers or path_patterns)
        if conditional and (priority is None or not 1 <= priority <= 50000):
            problems.add("add_target_group priority", priority,
                         "a routed target group needs a priority of 1 to 50000")
        if not conditional and self._has_default_target:
            problems.add("add_target_group", name,
                         "the HTTPS listener already has a default target group; "
                         "pass host_headers or path_patterns with a priority")
        problems.raise_if_any()

        target_group = LbTargetGroup(
            self, f"target-{name}",
            name=name,
            port=port,
            protocol="HTTP",
            target_type=target_type,
            vpc_id=vpc.vpc_id,
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=health_check_path,
                protocol="HTTP",
                matcher="200",
                interval=30,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=3,
            ),
            tags=self.props.tags.resource_tags(name),
        )
        self.target_groups[name] = target_group
        if conditional:
            self._rule(f"rule-{name}", name, target_group, priority,
                       _conditions(host_headers, path_patterns, ()))
        else:
            self.https_listener.put_default_action([LbListenerDefaultAction(
                type="forward", target_group_arn=target_group.arn)])
            self._has_default_target = True
        return target_group

    def forward(
        self,
        name: str,
        target_group: LbTargetGroup,
        *,
        priority: int,
        host_headers: tuple[str, ...] = (),
        path_patterns: tuple[str, ...] = (),
        source_ips: tuple[str, ...] = (),
    ) -> list[LbListenerRule]:
        """Forward HTTPS requests that match every given condition to `target_group`
        (e.g. `/events` only from a webhook sender's ranges). A rule holds at most
        5 condition values, so source ranges are spread over as many rules as
        needed, at `priority`, `priority + 1`, ... (ids `rule-<name>-<n>`)."""
        problems = Problems(self.node.path)
        if not is_kebab(name):
            problems.add("forward name", name, "allowed is a kebab-case literal")
        if not (host_headers or path_patterns or source_ips):
            problems.add("forward", name, "give at least one of host_headers, path_patterns "
                         "and source_ips (an unconditional route is add_target_group's default)")
        fixed = len(host_headers) + len(path_patterns)
        if source_ips and fixed >= MAX_CONDITION_VALUES:
            problems.add("forward host_headers/path_patterns", (host_headers, path_patterns),
                         f"with source_ips at most {MAX_CONDITION_VALUES - 1} values are allowed")
        for i, cidr in enumerate(source_ips):
            block = parse_cidr(cidr)
            if block is None or block.prefixlen == 0:
                problems.add(f"forward source_ips[{i}]", cidr,
                             "allowed is an IPv4 CIDR block other than 0.0.0.0/0")
        room = max(MAX_CONDITION_VALUES - fixed, 1)
        chunks = [source_ips[i:i + room] for i in range(0, len(source_ips), room)] or [()]
        if not 1 <= priority <= 50000 - len(chunks):
            problems.add("forward priority", priority, "allowed is 1 to 50000")
        problems.raise_if_any()
        return [
            self._rule(f"rule-{name}-{n}", f"{self.props.name}-{name}", target_group, priority + n,
                       _conditions(host_headers, path_patterns, chunk))
            for n, chunk in enumerate(chunks)
        ]

    def _rule(self, id: str, tag_name: str, target_group: LbTargetGroup, priority: int,
              conditions: list[LbListenerRuleCondition]) -> LbListenerRule:
        return LbListenerRule(
            self, id,
            listener_arn=self.https_listener.arn,
            priority=priority,
            action=[LbListenerRuleAction(type="forward", target_group_arn=target_group.arn)],
            condition=conditions,
            tags=self.props.tags.resource_tags(tag_name),
        )


def _conditions(host_headers: tuple[str, ...], path_patterns: tuple[str, ...],
                source_ips: tuple[str, ...]) -> list[LbListenerRuleCondition]:
    conditions = []
    if host_headers:
        conditions.append(LbListenerRuleCondition(
            host_header=LbListenerRuleConditionHostHeader(values=list(host_headers))))
    if path_patterns:
        conditions.append(LbListenerRuleCondition(
            path_pattern=LbListenerRuleConditionPathPattern(values=list(path_patterns))))
    if source_ips:
        conditions.append(LbListenerRuleCondition(
            source_ip=LbListenerRuleConditionSourceIp(values=list(source_ips))))
    return conditions


def _validate(props: ApplicationLoadBalancerProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=MAX_LB_NAME)
    if props.ssl_policy not in TLS12_POLICIES:
        problems.add("ssl_policy", props.ssl_policy,
                     f"allowed are the TLS 1.2+ policies {', '.join(TLS12_POLICIES)}")
    if props.desync_mitigation_mode not in DESYNC_MODES:
        problems.add("desync_mitigation_mode", props.desync_mitigation_mode,
                     f"allowed are {', '.join(DESYNC_MODES)}")
    if not 1 <= props.idle_timeout <= 4000:
        problems.add("idle_timeout", props.idle_timeout, "allowed is 1 to 4000 seconds")
    if not props.security_groups:
        problems.add("security_groups", props.security_groups,
                     "at least one security group is required")
    # A token list (e.g. from an SSM StringList) has one marker element; only
    # literal lists can be counted.
    literal_ids = not any("Token[" in str(subnet) for subnet in props.subnets.ids)
    if len(props.subnets.ids) == 0 or (literal_ids and len(props.subnets.ids) < 2):
        problems.add("subnets.ids", props.subnets.ids, "subnets in at least two AZs are required")
    if props.access_logs_prefix is not None and props.access_logs_bucket is None:
        problems.add("access_logs_prefix", props.access_logs_prefix,
                     "a prefix needs access_logs_bucket")
    if not props.enable_deletion_protection:
        check_reason(problems, "deletion_protection_off_reason",
                     props.deletion_protection_off_reason,
                     required_for="turning deletion protection off")
    problems.raise_if_any()
