"""No environment name is written into stacks/, constructs_lib/ or policies/: what
differs between environments comes from their settings, so a new environment is
one file in environments/ and never an edit of the code that builds it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from environments import environment_names

REPO = Path(__file__).resolve().parents[2]
CODE_DIRS = ("stacks", "constructs_lib", "policies")
GENERIC_NAMES = ("prod", "production", "staging")
"""Names a hand-written environment literal would most likely use, besides the
environments' own names."""
ALLOWED = {
    ("stacks/network.py", "prod-{region}-starport-layer-bucket"):
        "AWS's own ECR layer bucket: `prod` is part of AWS's name, not an environment",
}


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    words = "|".join(sorted({re.escape(n) for n in names}, key=len, reverse=True))
    return re.compile(rf"(?<![A-Za-z0-9])({words})(?![A-Za-z0-9])", re.IGNORECASE)


def _documentation(tree: ast.AST) -> set[int]:
    """ids of string constants that stand alone as statements (docstrings of
    modules, classes, functions and attributes): prose, not values."""
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def environment_literals(root: Path, names: tuple[str, ...]) -> list[str]:
    """`path:line: 'literal'` for every string value in the code dirs of `root`
    that names an environment, except the ALLOWED ones."""
    pattern = _pattern(names)
    found = []
    for directory in CODE_DIRS:
        for path in sorted((root / directory).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            tree = ast.parse(path.read_text(), filename=relative)
            docs = _documentation(tree)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                        and id(node) not in docs and pattern.search(node.value)
                        and (relative, node.value) not in ALLOWED):
                    found.append(f"{relative}:{node.lineno}: {node.value!r}")
    return found


def test_no_environment_name_is_written_in_the_code():
    names = (*GENERIC_NAMES, *environment_names())
    assert environment_literals(REPO, names) == [], (
        "environment names in string literals: take them from the settings "
        "(self.settings.name, resource_name(...)) instead")


def test_the_check_finds_a_planted_name(tmp_path):
    planted = tmp_path / "stacks" / "planted.py"
    planted.parent.mkdir()
    planted.write_text('"""A docstring may say prod."""\n'
                       'BUCKET = "staging-connectly-tfstate"\n'
                       'URL = f"https://{host}/prod/x"\n'
                       'FINE = "product-reproduction"\n')
    for directory in ("constructs_lib", "policies"):
        (tmp_path / directory).mkdir()
    assert environment_literals(tmp_path, ("prod", "staging")) == [
        "stacks/planted.py:2: 'staging-connectly-tfstate'",
        "stacks/planted.py:3: '/prod/x'",
    ]
