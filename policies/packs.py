"""Rule packs, listed explicitly: nothing registers itself on import."""

from __future__ import annotations

from policies.model import Rule
from policies.rules import (
                            enc001_customer_managed_keys,
                            enc002_kms_key_settings,
                            nam001_resource_names,
                            nam002_output_variable_names,
                            nam003_ssm_parameter_paths,
                            pro001_prevent_destroy,
                            sec001_open_ingress,
                            sec002_wildcard_iam,
                            sec003_tls_only_buckets,
                            sec004_literal_secrets,
                            tag001_required_tags,
                            tag002_tag_values,
)

TAGS: tuple[Rule, ...] = (tag001_required_tags.RULE, tag002_tag_values.RULE)
ENCRYPTION: tuple[Rule, ...] = (enc001_customer_managed_keys.RULE, enc002_kms_key_settings.RULE)
NAMING: tuple[Rule, ...] = (
    nam001_resource_names.RULE, nam002_output_variable_names.RULE, nam003_ssm_parameter_paths.RULE)
SECURITY: tuple[Rule, ...] = (
    sec001_open_ingress.RULE, sec002_wildcard_iam.RULE, sec003_tls_only_buckets.RULE,
    sec004_literal_secrets.RULE)
PROTECTION: tuple[Rule, ...] = (pro001_prevent_destroy.RULE,)
ALL: tuple[Rule, ...] = (*TAGS, *ENCRYPTION, *NAMING, *SECURITY, *PROTECTION)

PACKS: dict[str, tuple[Rule, ...]] = {
    "tags": TAGS, "encryption": ENCRYPTION, "naming": NAMING, "security": SECURITY,
    "protection": PROTECTION, "all": ALL,
}
