"""TAG002: tag values are kebab-case, except Owner which is an e-mail address."""

from __future__ import annotations

from collections.abc import Iterable

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    Result,
    Rule,
    StackView,
    from_problems,
    is_email,
    is_kebab,
    is_token,
)


def problems(tags: dict) -> list[str]:
    found = []
    for key, value in sorted(tags.items()):
        if is_token(value):
            continue
        if not isinstance(value, str):
            found.append(f"tag {key} is {value!r}, not a string")
        elif key == "Owner":
            if not is_email(value):
                found.append(f"tag Owner {value!r} is not an e-mail address")
        elif not is_kebab(value):
            # Name included: constructs set it only where the name is kebab-case.
            found.append(f"tag {key} {value!r} is not kebab-case")
    return found


class TagValues(Rule):
    id = "TAG002"
    family = "tags"
    title = "tag values kebab-case, Owner an e-mail"
    rationale = ("Tag values are matched literally by cost reports and IAM conditions; one "
                 "format (kebab-case, the reference's rule) keeps `platform-team` from also "
                 "appearing as `Platform Team`.")
    fix = "fix the value in settings (environments/) or in the construct that sets the tag"

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        # Default tags are checked once on their provider, not again on every resource.
        for alias in stack.providers():
            address = f"provider.aws.{alias}" if alias else "provider.aws"
            yield address, from_problems(problems(stack.default_tags(alias)))
        for resource in stack.resources:
            own = resource.body.get("tags")
            if isinstance(own, dict) and own:
                yield resource.address, from_problems(problems(own))
            elif own is not None and not isinstance(own, dict) and not is_token(own):
                yield resource.address, NON_COMPLIANT(f"tags is {own!r}, not a map")
            elif isinstance(own, dict):
                yield resource.address, COMPLIANT


RULE = TagValues()
