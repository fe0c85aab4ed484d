"""The estimator on small hand-made outputs. Every expected figure is computed here
from the sheet's unit prices written out (cost/prices/ap-northeast-2.json and
us-east-1.json, read 2026-12-07) and the documented default assumptions, never
with the estimator's own helpers; they must agree to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from cost.estimate import cents
from environments.settings import CostAssumptions
from tests.unit.cost.builders import estimate_stacks, items

HOURS = Decimal(730)


def to_cent(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def mysql(**changes) -> dict:
    body = {"engine": "mysql", "engine_version": "8.0", "instance_class": "db.t3.medium",
            "multi_az": True, "allocated_storage": 100, "storage_type": "gp3"}
    body.update(changes)
    return {"aws_db_instance": {"db": body}}


def test_db_t3_medium_multi_az_with_100_gb_gp3(tmp_path):
    """Instance hours at the Multi-AZ rate, Multi-AZ gp3 storage, and Extended Support
    for both instances (MySQL 8.0 left standard support on 2026-07-31)."""
    est = estimate_stacks(tmp_path, {"rds": {"resource": mysql(), **_provider()}})
    instance = Decimal("0.208") * HOURS                  # $151.84
    storage = Decimal("0.262") * 100                     # $26.20
    support = Decimal("0.12") * 2 * 2 * HOURS            # 2 vCPU x 2 instances: $350.40
    lines = items(est, "rds", "aws_db_instance.db")
    assert cents(lines["instance hours"].monthly) == Decimal("151.84") == to_cent(instance)
    assert cents(lines["storage"].monthly) == Decimal("26.20") == to_cent(storage)
    support_line = next(v for k, v in lines.items() if k.startswith("Extended Support"))
    assert cents(support_line.monthly) == Decimal("350.40") == to_cent(support)
    assert cents(est.monthly) == to_cent(instance + storage + support) == Decimal("528.44")


def test_a_major_version_in_standard_support_pays_no_extended_support(tmp_path):
    est = estimate_stacks(tmp_path, {"rds": {"resource": mysql(engine_version="8.4"),
                                             **_provider()}})
    resource = est.stack("rds").resource("aws_db_instance.db")
    assert not any(i.component.startswith("Extended Support") for i in resource.items)
    assert cents(est.monthly) == to_cent(Decimal("0.208") * HOURS + Decimal("0.262") * 100)
    assert any("8.4" in note for note in resource.notes)


def test_opting_out_of_extended_support_removes_its_charge(tmp_path):
    body = mysql(engine_lifecycle_support="open-source-rds-extended-support-disabled")
    est = estimate_stacks(tmp_path, {"rds": {"resource": body, **_provider()}})
    assert cents(est.monthly) == Decimal("178.04")  # 151.84 + 26.20


def test_single_az_rds_with_managed_secret_and_log_exports(tmp_path):
    body = mysql(multi_az=False, allocated_storage=50, manage_master_user_password=True,
                 enabled_cloudwatch_logs_exports=["error", "slowquery"],
                 engine_version="8.4")
    est = estimate_stacks(tmp_path, {"rds": {"resource": body, **_provider()}})
    a = CostAssumptions()
    expected = (Decimal("0.104") * HOURS                      # instance, Single-AZ
                + Decimal("0.131") * 50                       # gp3, Single-AZ
                + Decimal("0.40")                             # the RDS-managed secret
                + Decimal("0.76") * Decimal(str(a.rds_log_gb))  # log exports ingested
                + Decimal("0.0314") * Decimal(str(a.rds_log_gb)) * 12)  # kept 12 months
    assert cents(est.monthly) == to_cent(expected) == Decimal("88.55")


def test_one_nat_gateway_with_the_default_traffic(tmp_path):
    network = {"aws_nat_gateway": {"a": {"subnet_id": "x"}}}
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **_provider()}})
    # 730 h x $0.059 + 100 GB (the default nat_gb_processed) x $0.059
    assert CostAssumptions().nat_gb_processed == 100.0
    assert cents(est.monthly) == to_cent(Decimal("0.059") * HOURS + Decimal("0.059") * 100)
    assert cents(est.monthly) == Decimal("48.97")


def test_a_second_nat_gateway_adds_hours_not_traffic(tmp_path):
    network = {"aws_nat_gateway": {"a": {}, "c": {}}, "aws_eip": {"a": {}, "c": {}}}
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **_provider()}})
    per_gateway = Decimal("0.059") * HOURS + Decimal("0.059") * 50  # half the 100 GB each
    per_address = Decimal("0.005") * HOURS
    assert cents(est.monthly) == to_cent(2 * per_gateway + 2 * per_address) == Decimal("99.34")


def test_eleven_kms_keys_one_a_us_east_1_replica(tmp_path):
    keys = {f"key{i}": {"enable_key_rotation": True} for i in range(10)}
    replica = {"replica": {"primary_key_arn": "x", "provider": "aws.us_east_1"}}
    stacks = {
        "kms": {"resource": {"aws_kms_key": keys}, **_provider()},
        "route53": {"resource": {"aws_kms_replica_key": replica}, **_provider(us_east_1=True)},
    }
    est = estimate_stacks(tmp_path, stacks)
    # each key: $1.00 a month + 20,000 requests (the default) at $0.03 per 10,000
    per_key = Decimal("1.00") + Decimal("0.03") * 2
    assert cents(est.monthly) == to_cent(11 * per_key) == Decimal("11.66")
    assert est.stack("route53").resource("aws_kms_replica_key.replica").region == "us-east-1"


def test_fargate_service_from_its_task_definition(tmp_path):
    atlantis = {
        "aws_ecs_task_definition": {"task": {"cpu": "2048", "memory": "6144"}},
        "aws_ecs_service": {"service": {"launch_type": "FARGATE", "desired_count": 1,
                                        "task_definition": "${aws_ecs_task_definition.task.arn}"}},
    }
    est = estimate_stacks(tmp_path, {"atlantis": {"resource": atlantis, **_provider()}})
    expected = 2 * Decimal("0.04656") * HOURS + 6 * Decimal("0.00511") * HOURS
    assert cents(est.monthly) == to_cent(expected) == Decimal("90.36")


def test_fargate_spot_share_is_discounted(tmp_path):
    service = {"desired_count": 2, "task_definition": "${aws_ecs_task_definition.task.arn}",
               "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1},
                                              {"capacity_provider": "FARGATE_SPOT",
                                               "weight": 1}]}
    atlantis = {"aws_ecs_task_definition": {"task": {"cpu": "1024", "memory": "2048"}},
                "aws_ecs_service": {"service": service}}
    est = estimate_stacks(tmp_path, {"atlantis": {"resource": atlantis, **_provider()}})
    hourly = Decimal("0.04656") + 2 * Decimal("0.00511")
    expected = hourly * HOURS * 1 + hourly * HOURS * 1 * Decimal("0.30")  # 1 task at 70 % off
    assert cents(est.monthly) == to_cent(expected) == Decimal("53.88")


def test_interface_endpoint_counts_the_subnets_another_stack_publishes(tmp_path):
    network = {
        "aws_subnet": {"a": {}, "b": {}, "c": {}},
        "aws_ssm_parameter": {"ids": {
            "name": "/prod/network/private-subnet-ids", "type": "StringList",
            "value": '${join(",", [aws_subnet.a.id, aws_subnet.b.id, aws_subnet.c.id])}'}},
    }
    secrets = {"aws_vpc_endpoint": {"endpoint": {
        "vpc_endpoint_type": "Interface",
        "service_name": "com.amazonaws.ap-northeast-2.secretsmanager",
        "subnet_ids": '${split(",", data.aws_ssm_parameter.from-network-ids.insecure_value)}'}}}
    data = {"aws_ssm_parameter": {"from-network-ids": {"name": "/prod/network/private-subnet-ids"}}}
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **_provider()},
                                     "secrets": {"resource": secrets, "data": data,
                                                 **_provider()}})
    # 3 AZ x 730 h x $0.013 + 10 GB (the default) x $0.01; data sources are not priced
    expected = 3 * HOURS * Decimal("0.013") + 10 * Decimal("0.01")
    assert cents(est.stack("secrets").monthly) == to_cent(expected) == Decimal("28.57")
    assert est.stack("network").monthly == 0


def test_log_groups_by_writer_and_retention(tmp_path):
    network = {
        "aws_cloudwatch_log_group": {"flow": {"name": "/prod/flow", "retention_in_days": 365},
                                     "app": {"name": "/prod/app", "retention_in_days": 90}},
        "aws_flow_log": {"log": {"log_destination": "${aws_cloudwatch_log_group.flow.arn}",
                                 "log_destination_type": "cloud-watch-logs"}},
    }
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **_provider()}})
    # flow logs: 20 GB vended ingestion at $0.76, and 365 days = 12 months of 20 GB stored
    flow = 20 * Decimal("0.76") + 20 * 12 * Decimal("0.0314")
    # another group: 0.5 GB at $0.76, 90 days = 90 x 12 / 365 months of 0.5 GB stored
    app = Decimal("0.5") * Decimal("0.76") + Decimal("0.5") * 90 * 12 / 365 * Decimal("0.0314")
    stack = est.stack("network")
    assert cents(stack.resource("aws_cloudwatch_log_group.flow").monthly) == to_cent(flow)
    assert to_cent(flow) == Decimal("22.74")
    assert cents(stack.resource("aws_cloudwatch_log_group.app").monthly) == to_cent(app)
    assert to_cent(app) == Decimal("0.43")


def test_health_check_options_each_add_a_fee(tmp_path):
    checks = {"plain": {"type": "HTTPS", "measure_latency": True, "request_interval": 30},
              "all": {"type": "HTTPS_STR_MATCH", "measure_latency": True,
                      "request_interval": 10}}
    est = estimate_stacks(tmp_path, {"route53": {"resource": {"aws_route53_health_check": checks},
                                                 **_provider()}})
    stack = est.stack("route53")
    # AWS endpoint $0.50 + $1.00 per option: HTTPS and latency; then also string match, 10 s
    assert cents(stack.resource("aws_route53_health_check.plain").monthly) == Decimal("2.50")
    assert cents(stack.resource("aws_route53_health_check.all").monthly) == Decimal("4.50")


def test_alarms_metric_filters_and_us_east_1_prices(tmp_path):
    resources = {
        "aws_cloudwatch_metric_alarm": {"seoul": {"period": 300},
                                        "virginia": {"period": 60, "provider": "aws.us_east_1"}},
        "aws_cloudwatch_log_metric_filter": {"f": {"metric_transformation": {"name": "m"}}},
    }
    est = estimate_stacks(tmp_path, {"cloudtrail": {"resource": resources,
                                                    **_provider(us_east_1=True)}})
    # two standard alarms at $0.10 (both Regions), one custom metric at $0.30
    assert cents(est.monthly) == Decimal("0.50")


def test_unknown_types_missing_prices_and_regions_are_listed_not_dropped(tmp_path):
    resources = {
        "aws_imaginary_thing": {"x": {}},
        "aws_db_instance": {"big": {"engine": "mysql", "engine_version": "8.4",
                                    "instance_class": "db.r7g.large", "multi_az": True,
                                    "allocated_storage": 20, "storage_type": "gp3"}},
        "aws_kms_key": {"ireland": {"provider": "aws.eu_west_1"}},
    }
    doc = {"resource": resources, **_provider()}
    doc["provider"]["aws"].append({"alias": "eu_west_1", "region": "eu-west-1"})
    est = estimate_stacks(tmp_path, {"app": doc})
    lines = est.unpriced()
    assert any("aws_imaginary_thing.x (aws_imaginary_thing)" in line for line in lines)
    assert any("rds.mysql.db.r7g.large.multi_az" in line for line in lines)
    assert any("no price sheet for Region 'eu-west-1'" in line for line in lines)
    # what could be priced still is: the Multi-AZ gp3 storage of the unknown class
    assert cents(est.monthly) == to_cent(20 * Decimal("0.262"))


def test_free_types_and_data_sources_cost_nothing(tmp_path):
    doc = {"resource": {"aws_vpc": {"vpc": {}}, "aws_iam_role": {"r": {}}},
           "data": {"aws_kms_key": {"k": {}}}, **_provider()}
    est = estimate_stacks(tmp_path, {"network": doc})
    stack = est.stack("network")
    assert stack.free == ("aws_iam_role.r", "aws_vpc.vpc")
    assert stack.monthly == 0
    assert est.unpriced() == []


def test_assumptions_drive_usage_priced_components(tmp_path):
    network = {"aws_nat_gateway": {"a": {}}}
    est = estimate_stacks(tmp_path, {"network": {"resource": network, **_provider()}},
                          CostAssumptions(nat_gb_processed=1000.0, hours_per_month=744))
    assert cents(est.monthly) == to_cent(Decimal("0.059") * 744 + Decimal("0.059") * 1000)


def _provider(us_east_1: bool = False) -> dict:
    providers = [{"region": "ap-northeast-2", "default_tags": [{"tags": {"Environment": "prod"}}]}]
    if us_east_1:
        providers.append({"alias": "us_east_1", "region": "us-east-1"})
    return {"provider": {"aws": providers}}


def test_a_backup_plan_with_a_copy_to_another_region(tmp_path):
    """One daily rule into the home vault and one copy action: the default assumptions
    (10 GB of RDS snapshots, 5 GB of EFS, 0.1 GB of DynamoDB per vault; 5 GB copied a
    month) at $0.095, $0.055 and $0.11 per GB-month, and $0.08 per GB sent."""
    plan = {"aws_backup_plan": {"plan": {"name": "prod-backup", "rule": [{
        "rule_name": "daily", "target_vault_name": "prod-backup",
        "copy_action": [{"destination_vault_arn": "arn:aws:backup:ap-northeast-1:1:x"}]}]}},
        "aws_backup_vault": {"home": {"name": "prod-backup"}}}
    est = estimate_stacks(tmp_path, {"bootstrap": {"resource": plan, **_provider()}})
    storage = 2 * (Decimal("0.095") * 10 + Decimal("0.055") * 5 + Decimal("0.11") * Decimal("0.1"))
    transfer = Decimal("0.08") * 5
    assert cents(est.monthly) == to_cent(storage + transfer) == Decimal("2.87")
    lines = items(est, "bootstrap", "aws_backup_plan.plan")
    assert set(lines) == {"RDS snapshot storage", "EFS warm storage", "DynamoDB warm storage",
                          "copies to another Region"}
