"""The steps of the README's "How to add…" recipes that no other test sees.

Each check compares the code with what must accompany it, so a forgotten step
fails here with the file to write: a stack class left out of the registry or
without its test module, a construct without its unit tests or whose tests
never run the governance rules on it, a rule without its family's tests or its
row in the README's governance table, an AWS service the local deploy does not
point at moto.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from constructs import Construct

import constructs_lib
import stacks
from policies.packs import ALL
from stacks.base import GovernedStack
from stacks.registry import STACKS

REPO = Path(__file__).resolve().parents[2]


def classes_defined_in(package, base: type) -> dict[str, type]:
    """`module:Class` -> class for every public subclass of `base` that a module
    of `package` defines (imported names are not counted twice)."""
    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, base) and value is not base
                    and value.__module__ == module.__name__ and not name.startswith("_")):
                found[f"{module.__name__}:{name}"] = value
    return found


def governance_table() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Governance\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `make check"))


def test_every_stack_class_is_registered():
    registered = {spec.stack_class for spec in STACKS}
    missing = [where for where, cls in classes_defined_in(stacks, GovernedStack).items()
               if cls not in registered]
    assert not missing, (
        f"{', '.join(missing)} is a GovernedStack but not in STACKS of stacks/registry.py; "
        "add a StackSpec for it (name, phase, purpose) where it deploys")


def test_every_registered_stack_has_its_test_module():
    missing = [f"tests/stacks/test_{spec.name}.py" for spec in STACKS
               if not (REPO / "tests" / "stacks" / f"test_{spec.name}.py").is_file()]
    assert not missing, (
        f"no {', '.join(missing)}: every stack has a test module asserting what it must "
        "build (the snapshot alone is not a test)")


def test_every_construct_module_has_its_unit_tests():
    modules = sorted({cls.__module__ for cls in classes_defined_in(constructs_lib,
                                                                   Construct).values()})
    missing = [f"tests/unit/test_{module.rsplit('.', 1)[1]}.py (for {module})"
               for module in modules
               if not (REPO / "tests" / "unit" / f"test_{module.rsplit('.', 1)[1]}.py").is_file()]
    assert not missing, f"constructs without unit tests: {', '.join(missing)}"


def test_every_construct_is_checked_against_the_governance_rules():
    """A construct's defaults must satisfy every rule; the synth checks only what a
    stack builds, so its unit tests must run the rules on it."""
    modules = sorted({cls.__module__.rsplit(".", 1)[1] for cls in classes_defined_in(
        constructs_lib, Construct).values()})
    missing = [f"tests/unit/test_{module}.py" for module in modules
               if (REPO / "tests" / "unit" / f"test_{module}.py").is_file()
               and "governance_findings(" not in
               (REPO / "tests" / "unit" / f"test_{module}.py").read_text()]
    assert not missing, (
        f"{', '.join(missing)} never calls governance_findings(stack) "
        "(tests/unit/synth_helpers.py): build the construct with its defaults and assert "
        "it leaves no finding")


def test_every_rule_is_tested_in_its_family_module():
    missing = []
    for rule in ALL:
        path = REPO / "tests" / "unit" / "policies" / f"test_policy_{rule.family}.py"
        if not path.is_file() or not re.search(rf"\b{rule.id}\b", path.read_text()):
            missing.append(f"{rule.id} in {path.relative_to(REPO)}")
    assert not missing, (
        f"rules without a test that names them: {', '.join(missing)}; test that the rule "
        "finds a planted offence and passes the fixed resource")


def test_every_rule_has_its_row_in_the_readme_governance_table():
    table = governance_table()
    missing = [rule.id for rule in ALL if not re.search(rf"\b{rule.id}\b", table)]
    assert table and not missing, (
        f"README.md's governance table does not mention {', '.join(missing)}; add it to the "
        "row of `make check-<family>` with what it checks")


def test_the_recipe_checks_see_what_they_claim():
    """The discovery above finds the real classes, so an empty result cannot pass."""
    assert {spec.stack_class for spec in STACKS} == set(
        classes_defined_in(stacks, GovernedStack).values())
    assert "constructs_lib.s3_bucket:S3Bucket" in classes_defined_in(constructs_lib, Construct)
    assert "SEC003" in governance_table()
