"""The reference's cost tips, computed: each figure from the sheet's prices written out."""

from __future__ import annotations

from cost.tips import tips
from tests.unit.cost.builders import estimate_stacks

PROVIDER = {"provider": {"aws": [{"region": "ap-northeast-2",
                                  "default_tags": [{"tags": {"Environment": "prod"}}]}]}}


def environment(tmp_path):
    network = {"aws_subnet": {"a": {"availability_zone": "ap-northeast-2a"},
                              "c": {"availability_zone": "ap-northeast-2c"}},
               "aws_nat_gateway": {"nat": {}}, "aws_eip": {"eip": {}},
               "aws_vpc_endpoint": {"s3": {"vpc_endpoint_type": "Gateway",
                                           "service_name": "com.amazonaws.ap-northeast-2.s3"}},
               "aws_cloudwatch_log_group": {"app": {"name": "/prod/app",
                                                    "retention_in_days": 365}}}
    rds = {"aws_db_instance": {"db": {"engine": "mysql", "engine_version": "8.0",
                                      "instance_class": "db.t3.medium", "multi_az": True,
                                      "allocated_storage": 50, "storage_type": "gp3"}}}
    atlantis = {"aws_ecs_task_definition": {"t": {"cpu": "2048", "memory": "6144"}},
                "aws_ecs_service": {"s": {"launch_type": "FARGATE", "desired_count": 1,
                                          "task_definition": "${aws_ecs_task_definition.t.arn}"}}}
    return estimate_stacks(tmp_path, {"network": {"resource": network, **PROVIDER},
                                      "rds": {"resource": rds, **PROVIDER},
                                      "atlantis": {"resource": atlantis, **PROVIDER}})


def test_tips_are_computed(tmp_path):
    found = {t.title: t.text for t in tips(environment(tmp_path))}
    # a second NAT: 730 h x ($0.059 + $0.005)
    assert "adds $46.72/month" in found["Single vs multi-AZ NAT"]
    # 40 % of 730 h x $0.208 (Multi-AZ db.t3.medium)
    assert "40% saving" in found["RDS reserved instance, one year"]
    assert "saves $60.74/month of $151.84" in found["RDS reserved instance, one year"]
    assert "Extended Support ($350.40/month here)" in found["RDS reserved instance, one year"]
    # 0.5 GB x 12 months x $0.0314 = $0.19; at 90 days: 0.5 x 90 x 12 / 365 x $0.0314 = $0.05
    assert "saves $0.14/month: `/prod/app` (365 d)" in found["Log retention"]
    # 2 AZ x 730 h x $0.013 = $18.98; / ($0.059 - $0.01) = 387 GB
    assert "costs $18.98/month in 2 AZs" in found["VPC endpoints"]
    assert "above 387 GB a month" in found["VPC endpoints"]
    assert "gateway endpoint(s) for s3" in found["VPC endpoints"]
    # 2 x $0.04656 + 6 x $0.00511 per hour x 730 h = $90.36; at 70 % off: $27.11
    assert "cost $90.36/month on demand" in found["Spot for non-production"]
    assert "about $27.11" in found["Spot for non-production"]


def test_a_nat_per_az_tip_turns_around(tmp_path):
    network = {"aws_subnet": {"a": {"availability_zone": "ap-northeast-2a"},
                              "c": {"availability_zone": "ap-northeast-2c"}},
               "aws_nat_gateway": {"a": {}, "c": {}}}
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **PROVIDER}})
    text = {t.title: t.text for t in tips(est)}["Single vs multi-AZ NAT"]
    assert "A single gateway would save $46.72/month" in text
