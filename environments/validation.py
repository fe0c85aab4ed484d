"""Validate one environment's settings as a whole before any construct exists."""

from __future__ import annotations

import dataclasses
import itertools

from constructs_lib.errors import Problems
from constructs_lib.formats import LOG_RETENTION_DAYS, is_email, is_kebab, parse_cidr
from constructs_lib.tags import tag_value_problem
from environments.settings import CostAssumptions, Settings
from environments.tag_keys import ENVIRONMENT_TAG_KEYS, tag_field


def validate_settings(settings: Settings) -> None:
    """Raise ConfigError listing every problem in `settings`, or return None."""
    problems = Problems(settings.source_file)
    _check_names(settings, problems)
    _check_tags(settings, problems)
    _check_network(settings, problems)
    _check_numbers(settings, problems)
    _check_atlantis(settings, problems)
    _check_cost(settings.cost, problems)
    problems.raise_if_any()


def _check_names(s: Settings, p: Problems) -> None:
    if not is_kebab(s.name):
        p.add("name", s.name, "allowed is a kebab-case environment name such as 'prod'")
    for i, az in enumerate(s.availability_zones):
        if not (az.startswith(s.region) and len(az) == len(s.region) + 1 and az[-1].isalpha()):
            p.add(f"availability_zones[{i}]", az,
                  f"allowed is a zone of region {s.region!r} such as '{s.region}a'")
    if not s.state.bucket.startswith(f"{s.name}-") or not is_kebab(s.state.bucket):
        p.add("state.bucket", s.state.bucket,
              f"allowed is a kebab-case name starting with '{s.name}-'")
    if s.github.repository.count("/") != 1:
        p.add("github.repository", s.github.repository, "allowed is 'owner/name'")


def _check_tags(s: Settings, p: Problems) -> None:
    for key in ENVIRONMENT_TAG_KEYS:
        name = tag_field(key)
        value = getattr(s.tags, name)
        problem = tag_value_problem(key, value)
        if problem:
            p.add(f"tags.{name}", value, problem)
    if s.tags.environment != s.name:
        p.add("tags.environment", s.tags.environment,
              f"allowed is the environment's own name {s.name!r}")
    for stack, override in sorted(s.stacks.items()):
        if override.data_class is not None and not is_kebab(override.data_class):
            p.add(f"stacks[{stack!r}].data_class", override.data_class,
                  "tag values must be kebab-case")
    if s.alarm_email is not None and not is_email(s.alarm_email):
        p.add("alarm_email", s.alarm_email, "allowed is an e-mail address or None")


def _check_network(s: Settings, p: Problems) -> None:
    net = s.network
    vpc = parse_cidr(net.vpc_cidr)
    if vpc is None:
        p.add("network.vpc_cidr", net.vpc_cidr,
              "allowed is an IPv4 CIDR block such as '10.0.0.0/16' (host bits zero)")
    subnets = []
    for kind in ("public_subnets", "private_subnets"):
        entries = getattr(net, kind)
        if not entries:
            p.add(f"network.{kind}", entries, "at least one subnet is required")
        for i, subnet in enumerate(entries):
            field = f"network.{kind}[{i}]"
            block = parse_cidr(subnet.cidr)
            if block is None:
                p.add(f"{field}.cidr", subnet.cidr,
                      "allowed is an IPv4 CIDR block such as '10.0.0.0/20' (host bits zero)")
            elif vpc is not None and not block.subnet_of(vpc):
                p.add(f"{field}.cidr", subnet.cidr,
                      f"allowed is a block inside the VPC range {net.vpc_cidr}")
            else:
                subnets.append((field, subnet.cidr, block))
            if subnet.availability_zone not in s.availability_zones:
                p.add(f"{field}.availability_zone", subnet.availability_zone,
                      f"allowed are the environment's zones {', '.join(s.availability_zones)}")
    for (f1, c1, b1), (f2, c2, b2) in itertools.combinations(subnets, 2):
        if b1.overlaps(b2):
            p.add(f"{f2}.cidr", c2, f"it overlaps {f1} ({c1}); subnets must not overlap")


def _check_numbers(s: Settings, p: Problems) -> None:
    for field, value in (("log_retention_days", s.log_retention_days),
                         ("network.flow_log_retention_days", s.network.flow_log_retention_days)):
        if value not in LOG_RETENTION_DAYS:
            p.add(field, value, "allowed are the values CloudWatch Logs accepts: "
                  + ", ".join(map(str, LOG_RETENTION_DAYS)))


ATLANTIS_COMMANDS = ("version", "plan", "apply", "cancel", "unlock", "approve_policies",
                     "import", "state", "*")
"""The comment commands `--gh-team-allowlist` can grant, and `*` (runatlantis/atlantis
v0.47.1: `AllCommentCommands` in server/events/command/name.go)."""


def _check_atlantis(s: Settings, p: Problems) -> None:
    if not s.github.hook_cidrs:
        p.add("github.hook_cidrs", s.github.hook_cidrs,
              "at least one range is required, or no webhook reaches Atlantis")
    for field, cidrs in (("github.hook_cidrs", s.github.hook_cidrs),
                         ("atlantis.operator_cidrs", s.atlantis.operator_cidrs)):
        for i, cidr in enumerate(cidrs):
            block = parse_cidr(cidr)
            if block is None:
                p.add(f"{field}[{i}]", cidr, "allowed is an IPv4 CIDR block (host bits zero)")
            elif block.prefixlen == 0:
                p.add(f"{field}[{i}]", cidr, "the whole internet is not a source range")
    if not s.atlantis.team_allowlist:
        p.add("atlantis.team_allowlist", s.atlantis.team_allowlist,
              "at least one (team, command) pair is required, or nobody can run Atlantis")
    for i, entry in enumerate(s.atlantis.team_allowlist):
        team, command = entry if len(entry) == 2 else ("", "")
        if not is_kebab(team):
            p.add(f"atlantis.team_allowlist[{i}]", entry,
                  "allowed is (GitHub team slug, command) with a kebab-case slug")
        elif command not in ATLANTIS_COMMANDS:
            p.add(f"atlantis.team_allowlist[{i}]", entry,
                  f"allowed commands are {', '.join(ATLANTIS_COMMANDS)}")


def _check_cost(cost: CostAssumptions, p: Problems) -> None:
    if not isinstance(cost, CostAssumptions):
        p.add("cost", cost, "allowed is a CostAssumptions (environments/settings.py)")
        return
    for spec in dataclasses.fields(CostAssumptions):
        field, value = f"cost.{spec.name}", getattr(cost, spec.name)
        if spec.type == "bool":
            if not isinstance(value, bool):
                p.add(field, value, "allowed is True or False")
        elif spec.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            p.add(field, value, "allowed is a whole number of zero or more")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            p.add(field, value, "allowed is a number of zero or more")
        elif value < 0:
            p.add(field, value, "a usage cannot be negative; allowed is zero or more")
    if isinstance(cost.hours_per_month, int) and not 1 <= cost.hours_per_month <= 744:
        p.add("cost.hours_per_month", cost.hours_per_month,
              "allowed is 1 to 744 (the hours of a 31-day month)")
    ratio = cost.log_storage_ratio
    if isinstance(ratio, int | float) and not isinstance(ratio, bool) and not 0 < ratio <= 1:
        p.add("cost.log_storage_ratio", ratio,
              "allowed is more than 0 and at most 1 (stored bytes per ingested byte)")
    months = cost.unretained_log_months
    if isinstance(months, int) and not isinstance(months, bool) and months < 1:
        p.add("cost.unretained_log_months", months, "allowed is 1 or more")
