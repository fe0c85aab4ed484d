"""Rules found in policies/rules/ (one per module) and the packs derived from them.

A pack is every rule of one family (`tags`, `security`...), every rule of one
severity (`error`), or `all`. A new rule module joins its packs by itself; a new
family also needs a `make check-<family>` target (tests/unit/policies/test_policy_packs.py
fails until it has one).
"""

from __future__ import annotations

import importlib
import pkgutil

from policies.model import Rule

RULES_PACKAGE = "policies.rules"


class RuleModuleError(Exception):
    """A module of the rules package that does not hold exactly one rule."""


def discover(package: str = RULES_PACKAGE) -> tuple[Rule, ...]:
    """The rule of every module in `package`, ordered by id.

    Each module defines one Rule instance as `RULE`, and its name starts with the
    rule's id in lower case (`sec003_tls_only_buckets.py` holds SEC003), so the
    file for a rule id in a report is found by name.
    """
    rules: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__),
                       key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        held = [v for v in vars(module).values() if isinstance(v, Rule)]
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule) or len(held) != 1:
            raise RuleModuleError(
                f"{module.__name__} must hold exactly one rule, as RULE = <Rule subclass>(); "
                f"it holds {len(held)} Rule instance(s)"
                + ("" if isinstance(rule, Rule) else " and no RULE") + ".")
        if info.name.split("_")[0] != rule.id.lower():
            raise RuleModuleError(
                f"{module.__name__} holds {rule.id}; rename the module to start with "
                f"{rule.id.lower()}_ so the rule can be found by its id.")
        rules.append(rule)
    return tuple(sorted(rules, key=lambda r: r.id))


def build_packs(rules: tuple[Rule, ...]) -> dict[str, tuple[Rule, ...]]:
    """`all`, one pack per family and one per severity, each in rule order."""
    packs: dict[str, tuple[Rule, ...]] = {"all": rules}
    for kind, key in (("family", lambda r: r.family), ("severity", lambda r: r.severity.value)):
        grouped: dict[str, tuple[Rule, ...]] = {}
        for rule in rules:
            grouped[key(rule)] = (*grouped.get(key(rule), ()), rule)
        for name, members in grouped.items():
            if name in packs:
                raise RuleModuleError(
                    f"the {kind} {name!r} of {members[0].id} is already a pack name; "
                    "choose another so `--pack` stays unambiguous.")
            packs[name] = members
    return packs


ALL: tuple[Rule, ...] = discover()
PACKS: dict[str, tuple[Rule, ...]] = build_packs(ALL)
