"""Rules are discovered from policies/rules/ and packs derived from them; `make check`
runs every rule. Each expectation is computed from the code, not kept as a list."""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import policies.rules
from policies.model import Rule, Severity
from policies.packs import ALL, PACKS, RuleModuleError, build_packs, discover
from policies.suppressions import OUR_ID

REPO = Path(__file__).resolve().parents[3]
PACK_ARGUMENT = re.compile(r"--pack[= ](\S+)")


def make_check_packs() -> set[str]:
    """The packs `make check` runs, from make's own dry run (nothing is executed)."""
    done = subprocess.run(["make", "-n", "-s", "--no-print-directory", "check"], cwd=REPO,
                          capture_output=True, text=True, check=True)
    return set(PACK_ARGUMENT.findall(done.stdout))


def not_run(rules: tuple[Rule, ...], pack_names: set[str]) -> list[str]:
    """Ids of the rules that none of `pack_names` runs."""
    packs = build_packs(rules)
    run = {r.id for name in pack_names for r in packs.get(name, ())}
    return [r.id for r in rules if r.id not in run]


def scratch_package(root: Path, name: str, modules: dict[str, str]) -> str:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, text in modules.items():
        (package / f"{module}.py").write_text(text)
    return name


def rule_source(rule_id: str, family: str = "logging", count: int = 1) -> str:
    instances = "\n".join(f"RULE{'' if i == 0 else i} = Scratch()" for i in range(count))
    return (f"from policies.model import Rule\n\n\nclass Scratch(Rule):\n"
            f"    id = {rule_id!r}\n    family = {family!r}\n    title = 'scratch'\n"
            f"    rationale = 'scratch'\n    fix = 'scratch'\n\n\n{instances}\n")


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A fresh importable package of rule modules under tmp_path."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(modules: dict[str, str]) -> str:
        name = f"scratch_{tmp_path.name}"
        monkeypatch.setattr(sys, "modules", dict(sys.modules))
        return scratch_package(tmp_path, name, modules)
    return make


def test_every_rule_module_is_discovered_once():
    modules = sorted(m.name for m in pkgutil.iter_modules(policies.rules.__path__))
    assert [r.id.lower() for r in ALL] == [m.split("_")[0] for m in modules]
    for rule in ALL:
        module = sys.modules[type(rule).__module__]
        assert module.__name__.startswith("policies.rules.") and module.RULE is rule


def test_every_rule_is_documented_and_suppressible():
    for rule in ALL:
        assert OUR_ID.match(rule.id), f"{rule.id}: the suppression file only accepts AAA999 ids"
        assert isinstance(rule.severity, Severity)
        assert rule.family and rule.title and rule.rationale and rule.fix, rule.id


def test_packs_are_derived_from_family_and_severity():
    assert PACKS["all"] == ALL
    for name, members in PACKS.items():
        if name != "all":
            assert members == tuple(r for r in ALL
                                    if name in (r.family, r.severity.value)), name
    for rule in ALL:
        assert rule in PACKS[rule.family] and rule in PACKS[rule.severity.value]


def test_make_check_runs_every_rule():
    assert not_run(ALL, make_check_packs()) == []


def test_a_rule_in_a_family_without_a_make_target_is_caught(scratch):
    package = scratch({"log001_retention": rule_source("LOG001")})
    rules = (*ALL, *discover(package))
    assert not_run(rules, make_check_packs()) == ["LOG001"]


@pytest.mark.parametrize(("case", "modules", "expected"), [
    ("no RULE", {"log001_retention": "X = 1\n"}, "no RULE"),
    ("two rules", {"log001_retention": rule_source("LOG001", count=2)}, "exactly one rule"),
    ("name not the id", {"retention": rule_source("LOG001")}, "start with log001_"),
])
def test_a_module_not_holding_one_named_rule_fails_discovery(scratch, case, modules, expected):
    with pytest.raises(RuleModuleError, match=expected):
        discover(scratch(modules))


def test_a_family_named_like_another_pack_is_refused(scratch):
    rules = discover(scratch({"err001_clash": rule_source("ERR001", family="error")}))
    with pytest.raises(RuleModuleError, match="already a pack name"):
        build_packs((*ALL, *rules))


def test_rule_classes_are_not_named_like_construct_library_classes():
    """TAG001's class was `RequiredTags`, the name of the tag settings type every
    construct takes: a rule class must not borrow a constructs_lib name."""
    library = {node.name for path in (REPO / "constructs_lib").glob("*.py")
               for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)}
    assert "RequiredTags" in library
    assert [type(r).__name__ for r in ALL if type(r).__name__ in library] == []
