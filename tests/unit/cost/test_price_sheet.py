"""The price sheets: every price is sourced and dated, and a malformed sheet fails
with sentences naming the file and the entry."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from constructs_lib.errors import ConfigError
from cost.price_sheet import (
    available_regions,
    free_types,
    load_sheet,
    parse_free_types,
    parse_sheet,
    sheet_path,
)


@pytest.mark.parametrize("region", ["ap-northeast-2", "us-east-1"])
def test_every_price_carries_its_source_and_the_day_it_was_read(region):
    sheet = load_sheet(region)
    assert sheet.region == region and sheet.read == date(2026, 12, 7)
    assert sheet.prices, f"the {region} sheet has no prices"
    for price in sheet.prices.values():
        assert price.usd >= 0 and price.unit, price.key
        assert price.source.url and len(price.source.via) > 20, price.key
        assert date(2025, 1, 1) <= price.source.read <= sheet.read, price.key
        # an AWS page or offer file, or the reference this project reproduces
        assert price.source.url.startswith("https://") or "reference" in price.source.via, (
            price.key)
        if price.basis.startswith("as "):  # the same basis as another price
            other = sheet.price(price.basis[3:].rstrip("."))
            assert other is not None and other.basis, f"{price.key}: {price.basis!r}"
        elif price.basis:
            assert len(price.basis) > 30, f"{price.key}: a basis explains itself"


def test_the_seoul_sheet_prices_what_the_issue_lists():
    keys = set(load_sheet("ap-northeast-2").prices)
    for key in ("nat_gateway.hour", "nat_gateway.gb", "transit_gateway.attachment_hour",
                "alb.hour", "alb.lcu_hour", "fargate.vcpu_hour", "fargate.gb_hour",
                "efs.standard_gb_month", "rds.mysql.db.t3.medium.multi_az",
                "rds.storage.gp2.multi_az", "rds.storage.gp3.multi_az", "kms.key_month",
                "kms.requests_10k", "secretsmanager.secret_month", "route53.hosted_zone_month",
                "route53.health_check_aws_month", "logs.ingest_gb", "logs.storage_gb_month",
                "cloudwatch.alarm_month", "prometheus.samples_10m", "grafana.editor_month",
                "grafana.viewer_month", "sns.publishes_million", "cloudtrail.data_events_100k",
                "s3.standard_gb_month", "athena.tb_scanned", "interface_endpoint.az_hour",
                "backup.efs_warm_gb_month", "rds.extended_support.year1_2"):
        assert key in keys, key


def test_seoul_figures_read_from_the_offer_files():
    """A few figures checked against the copies they came from (sources in the sheet)."""
    sheet = load_sheet("ap-northeast-2")
    assert sheet.price("nat_gateway.hour").usd == Decimal("0.059")
    assert sheet.price("alb.hour").usd == Decimal("0.0225")
    assert sheet.price("fargate.vcpu_hour").usd == Decimal("0.04656")
    assert sheet.price("logs.ingest_gb").usd == Decimal("0.76")
    assert sheet.price("rds.storage.gp3.multi_az").usd == Decimal("0.262")
    assert not sheet.price("nat_gateway.hour").basis
    assert sheet.price("rds.mysql.db.t3.medium.multi_az").basis  # derived, says how


def test_both_sheets_exist_and_every_discount_is_a_fraction():
    assert set(available_regions()) >= {"ap-northeast-2", "us-east-1"}
    for discount in load_sheet("ap-northeast-2").discounts.values():
        assert Decimal(0) < discount.fraction < Decimal(1)


def _seoul() -> dict:
    return json.loads(sheet_path("ap-northeast-2").read_text())


def test_a_malformed_sheet_fails_with_sentences():
    doc = copy.deepcopy(_seoul())
    doc["prices"]["nat_gateway.hour"]["usd"] = "-1"
    doc["prices"]["alb.hour"]["source"] = "nowhere"
    doc["prices"]["kms.key_month"].pop("unit")
    doc["sources"]["pl-ec2"]["read"] = "2027-01-01"
    doc["sources"]["pl-vpc"]["via"] = ""
    with pytest.raises(ConfigError) as caught:
        parse_sheet(doc, sheet_path("ap-northeast-2"))
    text = "\n".join(caught.value.problems)
    assert "prices.nat_gateway.hour.usd is '-1'" in text
    assert "prices.alb.hour.source is 'nowhere'" in text
    assert "prices.kms.key_month.unit is missing" in text
    assert "sources.pl-ec2.read is 2027-01-01; a source cannot be read after" in text
    assert "sources.pl-vpc.via is ''" in text


def test_a_sheet_under_another_regions_name_and_unused_sources_fail():
    doc = copy.deepcopy(_seoul())
    doc["region"] = "eu-west-1"
    doc["sources"]["spare"] = {"url": "https://example.com/x", "read": "2026-01-01",
                               "via": "nothing uses this source"}
    with pytest.raises(ConfigError) as caught:
        parse_sheet(doc, sheet_path("ap-northeast-2"))
    text = "\n".join(caught.value.problems)
    assert "region is 'eu-west-1'; it must be the file's name 'ap-northeast-2'" in text
    assert "sources spare are not used" in text


def test_a_missing_sheet_names_the_regions_that_have_one():
    with pytest.raises(ConfigError, match=r"no price sheet for Region 'eu-west-1'.*ap-northeast-2"):
        load_sheet("eu-west-1")


def test_free_types_each_carry_a_reason():
    assert all(len(reason) >= 10 for reason in free_types().values())
    with pytest.raises(ConfigError, match="aws_vpc needs a reason"):
        parse_free_types({"types": {"aws_vpc": "free"}})
