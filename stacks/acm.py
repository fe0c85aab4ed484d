"""The wildcard certificate of the domain, DNS-validated in the public zone."""

from __future__ import annotations

from cdktf import TerraformIterator, TerraformResourceLifecycle, Token
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate, AcmCertificateOptions
from cdktf_cdktf_provider_aws.acm_certificate_validation import AcmCertificateValidation
from cdktf_cdktf_provider_aws.route53_record import Route53Record
from constructs import Construct

from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec


class AcmStack(GovernedStack):
    """`*.<domain>` plus `<domain>`, its validation record and the validation."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        domain = self.settings.domain
        zone_id = self.consume("route53", "zone-id")

        self.certificate = AcmCertificate(
            self, "certificate",
            domain_name=f"*.{domain}",
            subject_alternative_names=[domain],
            validation_method="DNS",
            key_algorithm="RSA_2048",
            options=AcmCertificateOptions(certificate_transparency_logging_preference="ENABLED"),
            tags=self.tags.resource_tags(self.resource_name("wildcard")),
            # Listeners keep using the old certificate until the new one exists.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # The validation options are only known after apply, so the records are
        # a for_each over them, keyed by the domain name (known at plan time,
        # unlike the record name). `*.<domain>` and `<domain>` share one CNAME:
        # both entries write the same record, hence allow_overwrite.
        options = TerraformIterator.from_complex_list(
            self.certificate.domain_validation_options, "domain_name")
        self.validation_records = Route53Record(
            self, "validation-record",
            for_each=options,
            zone_id=zone_id,
            name=options.get_string("resource_record_name"),
            type=options.get_string("resource_record_type"),
            records=[options.get_string("resource_record_value")],
            ttl=60,
            allow_overwrite=True,
        )
        # cdktf renders the iterator as `tolist(<set>)`, which Terraform cannot
        # key until apply ("Invalid for_each argument"); iterating the set itself
        # (Terraform's documented form) keys by domain name at plan time.
        certificate = f"aws_acm_certificate.{self.certificate.friendly_unique_id}"
        self.validation_records.add_override(
            "for_each",
            f"${{{{ for dvo in {certificate}.domain_validation_options : dvo.domain_name => dvo }}}}")
        fqdns = TerraformIterator.from_resources(self.validation_records).pluck_property("fqdn")
        self.validation = AcmCertificateValidation(
            self, "validation",
            certificate_arn=self.certificate.arn,
            validation_record_fqdns=Token.as_list(fqdns),
        )

        # The validated ARN: consumers (the ALB) wait until the certificate is issued.
        self.publish("certificate-arn", self.validation.certificate_arn,
                     f"ARN of the validated *.{domain} certificate")
