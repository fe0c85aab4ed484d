"""The per-type pricing functions: resource type -> the function that quotes one
resource of it. Listed here explicitly (nothing registers itself on import); a type
the stacks create must be here or in cost/prices/free.json."""

from __future__ import annotations

from collections.abc import Callable

from cost.pricing import compute, database, dns, network, observability, security, storage
from cost.pricing.quote import LineItem, Quote

Pricer = Callable[[Quote], None]

PRICERS: dict[str, Pricer] = {
    # network
    "aws_nat_gateway": network.nat_gateway,
    "aws_eip": network.elastic_ip,
    "aws_vpc_endpoint": network.vpc_endpoint,
    "aws_ec2_transit_gateway_vpc_attachment": network.transit_gateway_attachment,
    "aws_lb": network.load_balancer,
    # compute
    "aws_ecs_service": compute.ecs_service,
    "aws_ecs_cluster": compute.ecs_cluster,
    "aws_lambda_function": compute.lambda_function,
    "aws_ecr_repository": compute.ecr_repository,
    "aws_ecr_registry_scanning_configuration": compute.ecr_registry_scanning,
    # databases
    "aws_db_instance": database.db_instance,
    "aws_dynamodb_table": database.dynamodb_table,
    # storage and analytics
    "aws_s3_bucket": storage.s3_bucket,
    "aws_efs_file_system": storage.efs_file_system,
    "aws_efs_backup_policy": storage.efs_backup_policy,
    "aws_backup_plan": storage.backup_plan,
    "aws_athena_workgroup": storage.athena_workgroup,
    # observability
    "aws_cloudwatch_log_group": observability.log_group,
    "aws_cloudwatch_metric_alarm": observability.metric_alarm,
    "aws_cloudwatch_log_metric_filter": observability.log_metric_filter,
    "aws_prometheus_workspace": observability.prometheus_workspace,
    "aws_grafana_workspace": observability.grafana_workspace,
    "aws_sns_topic": observability.sns_topic,
    "aws_sns_topic_subscription": observability.sns_subscription,
    "aws_cloudtrail": observability.cloudtrail,
    # security
    "aws_kms_key": security.kms_key,
    "aws_kms_replica_key": security.kms_key,
    "aws_secretsmanager_secret": security.secret,
    "aws_acm_certificate": security.acm_certificate,
    "aws_ssm_parameter": security.ssm_parameter,
    # DNS
    "aws_route53_zone": dns.hosted_zone,
    "aws_route53_health_check": dns.health_check,
}

__all__ = ["PRICERS", "LineItem", "Pricer", "Quote"]
