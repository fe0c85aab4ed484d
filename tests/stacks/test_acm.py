"""acm stack: the wildcard certificate, its DNS validation records in the zone
(one record for both names) and the validation."""

from __future__ import annotations

import pytest

from tests.stacks.synth_json import one, published


@pytest.fixture(scope="module")
def acm(stack_json):
    return stack_json("acm")


def test_certificate(acm):
    cert = one(acm, "aws_acm_certificate")
    assert cert["domain_name"] == "*.set-of.com"
    assert cert["subject_alternative_names"] == ["set-of.com"]
    assert cert["validation_method"] == "DNS"
    assert cert["lifecycle"] == {"create_before_destroy": True}


def test_validation_records_iterate_the_validation_options(acm):
    record = one(acm, "aws_route53_record")
    # Keyed by domain name (known at plan time); both names share one CNAME.
    # Over the set itself: `tolist(set)` cannot be keyed until apply.
    assert record["for_each"] == (
        "${{ for dvo in aws_acm_certificate.certificate.domain_validation_options : "
        "dvo.domain_name => dvo }}")
    assert record["allow_overwrite"] is True
    assert record["name"] == "${each.value.resource_record_name}"
    assert record["type"] == "${each.value.resource_record_type}"
    assert record["records"] == ["${each.value.resource_record_value}"]
    assert record["zone_id"] == "${data.aws_ssm_parameter.from-route53-zone-id.insecure_value}"


def test_validation_waits_for_the_records(acm):
    validation = one(acm, "aws_acm_certificate_validation")
    assert validation["certificate_arn"] == "${aws_acm_certificate.certificate.arn}"
    assert "aws_route53_record.validation-record" in validation["validation_record_fqdns"]


def test_publishes_the_validated_certificate(acm):
    assert published(acm) == {
        "/prod/acm/certificate-arn": "${aws_acm_certificate_validation.validation.certificate_arn}"}
