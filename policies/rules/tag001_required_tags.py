"""TAG001: every taggable resource ends up with the 8 required tags."""

from __future__ import annotations

from environments.tag_keys import REQUIRED_TAG_KEYS
from policies.model import COMPLIANT, NON_COMPLIANT, ResourceView, Result, Rule
from policies.schema import taggable_types


class RequiredTagsPresent(Rule):
    # Not `RequiredTags`: that is the tag settings type of constructs_lib/tags.py.
    id = "TAG001"
    family = "tags"
    title = "all 8 required tags present after default_tags merge"
    rationale = ("Cost allocation, ownership and data classification are read from tags; "
                 "a resource without them has no owner and no cost centre.")
    fix = ("set the missing tags on the provider's default_tags (GovernedStack does) or pass "
           "RequiredTags.resource_tags() to the resource; an aliased provider needs them too")

    def applies_to(self, resource: ResourceView) -> bool:
        # Which types take tags comes from the provider schema, not a hand list.
        return not resource.data and resource.type in taggable_types()

    def check(self, resource: ResourceView) -> Result:
        tags = resource.effective_tags()
        if tags is None:
            return NON_COMPLIANT("tags is a single expression, so the rule cannot see its keys")
        missing = [t for t in REQUIRED_TAG_KEYS if tags.get(t) in (None, "")]
        if missing:
            provider = resource.provider_alias
            via = f"provider aws.{provider}" if provider else "the default aws provider"
            return NON_COMPLIANT(f"missing tags {', '.join(missing)} (merged with {via}'s "
                                 "default_tags)")
        return COMPLIANT


RULE = RequiredTagsPresent()
