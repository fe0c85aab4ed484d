"""Imports flow one way, checked on the source with `ast` (nothing is imported).

The rule, per package (a package imports its own modules freely):

- `environments` (settings facts) and `constructs_lib` (constructs) are the
  bottom layer and import nothing above them. Only facts cross between the two:
  `constructs_lib` imports `environments.tag_keys`, the tag vocabulary every
  construct tags with, and never an environment's settings (a construct gets
  its values as props); `environments` imports the checking modules
  `constructs_lib.errors`, `.formats` and `.tags`, so settings are validated
  with the same formats and sentences as props before any construct exists,
  and never a construct.
- `stacks` import `environments` and `constructs_lib`.
- `policies` read the synthesized JSON: they import `constructs_lib.formats`
  and `environments.tag_keys` only, so the rules run without cdktf or node.
- `cost` (the monthly estimate) reads the synthesized JSON through `policies.model`
  and the usage assumptions of `environments`; of `stacks` it takes only the
  registry's deploy order (imported lazily, with `fast_synth`'s lazy bindings).
- `drift` (the drift check) imports only `stacks.registry` (the deploy order),
  `stacks.atlantis_repo_config` (where the output lives), `policies.model` (which
  dirs are environment outputs) and `fast_synth` (to import the registry cheaply):
  it plans the committed output.
- `lambda_src` is the root of the Lambda zip and runs alone in the function:
  it imports nothing of this repository (not even itself as `lambda_src.…`).
- `synth` (the synth pipeline), `local_deploy` (the local deploy harness on
  moto), `scripts`, `main.py`, `fast_synth.py` and `tests` sit on top and may
  import anything, each other included.

So `stacks`, `constructs_lib`, `environments` and `policies` never import
`synth`, `local_deploy`, `scripts`, `main` or `fast_synth`; `constructs_lib`
and `environments` never import `stacks`; `constructs_lib` never imports
`policies`. Imports inside functions and `if TYPE_CHECKING:` blocks count too;
imports by string (`importlib.import_module`) are not seen.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

FIRST_PARTY = frozenset({
    "constructs_lib", "cost", "drift", "environments", "fast_synth", "lambda_src", "local_deploy", "main",
    "policies", "scripts", "stacks", "synth", "tests",
})
"""Top-level packages and modules of this repository; imports of anything else
(the standard library, cdktf, boto3, ...) are not this rule's business."""

MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "environments": ("environments", "constructs_lib.errors", "constructs_lib.formats",
                     "constructs_lib.tags"),
    "constructs_lib": ("constructs_lib", "environments.tag_keys"),
    "stacks": ("stacks", "environments", "constructs_lib"),
    "policies": ("policies", "constructs_lib.formats", "environments.tag_keys"),
    "cost": ("cost", "constructs_lib.errors", "environments", "policies.model",
             "stacks.registry", "fast_synth"),
    "lambda_src": (),
    "drift": ("drift", "stacks.registry", "stacks.atlantis_repo_config", "policies.model",
              "fast_synth"),
}
"""What each checked package may import of FIRST_PARTY (a name allows its
submodules); packages not listed here are the top layer and unchecked."""

WHY = {
    "environments": "settings are facts, validated before any construct exists",
    "constructs_lib": "constructs take their values as props and know no stack, "
                      "environment, pipeline or harness",
    "stacks": "stacks are built from settings and constructs; the synth pipeline "
              "and the local deploy run them",
    "policies": "the rules read synthesized JSON and must run without cdktf or node",
    "cost": "the estimate reads synthesized JSON and settings, and takes only the deploy "
            "order from the stack registry",
    "lambda_src": "it is the root of the Lambda zip and runs there alone",
    "drift": "the drift check plans what is committed: it takes only the deploy order and "
             "the output root from the stacks and the output dirs from the policy model, "
             "and needs no synth and no harness",
}
"""Why the package is limited, said in each failure."""

SKIPPED_TOP_LEVEL = frozenset({".venv", "node_modules", "cdktf.out"})


def _allowed(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in allowed)


def _first_party(module: str) -> bool:
    return module.split(".")[0] in FIRST_PARTY


def _resolve(node: ast.ImportFrom, module_path: tuple[str, ...]) -> str:
    """The absolute module of a `from ... import`; `module_path` is the importing
    module's dotted name as parts (`__init__` included for a package)."""
    if not node.level:
        return node.module or ""
    base = module_path[:-node.level]
    return ".".join((*base, node.module) if node.module else base)


def _imported(tree: ast.AST,
              module_path: tuple[str, ...]) -> Iterator[tuple[ast.stmt, str, list[str]]]:
    """(statement, module it imports from, dotted names it imports) per import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, [alias.name]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, module_path)
            yield node, base, [f"{base}.{alias.name}" for alias in node.names]


def violations(source: str, relative_path: str) -> list[str]:
    """One sentence per import in `source` (the file at `relative_path`, e.g.
    `stacks/secrets.py`) that the rule forbids; empty when it keeps the rule."""
    parts = Path(relative_path).with_suffix("").parts
    package = parts[0]
    if package not in MAY_IMPORT:
        return []
    allowed = MAY_IMPORT[package]
    found = []
    for node, module, names in _imported(ast.parse(source, relative_path), parts):
        if not _first_party(module) or _allowed(module, allowed):
            continue
        # `from constructs_lib import formats` imports the module constructs_lib.formats.
        offending = [name for name in names if not _allowed(name, allowed)]
        for name in [module] if len(offending) == len(names) else offending:
            found.append(
                f"{relative_path}:{node.lineno} imports {name} (`{ast.unparse(node)}`), "
                f"but {package}/ may import only "
                f"{', '.join(allowed) if allowed else 'nothing'} of this repository: "
                f"{WHY[package]} (see tests/unit/test_import_direction.py for the rule).")
    return found


def check_tree(root: Path) -> list[str]:
    """Every forbidden import in the checked packages under `root`."""
    found = []
    for package in sorted(MAY_IMPORT):
        for path in sorted((root / package).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(root).as_posix()
            found += violations(path.read_text(encoding="utf-8"), relative)
    return found


def test_the_repository_keeps_the_import_direction():
    found = check_tree(REPO)
    assert not found, "imports that run back up the layers:\n" + "\n".join(found)


def test_every_top_level_package_is_known():
    """A new top-level package would otherwise be importable from anywhere unchecked."""
    present = {path.stem for path in REPO.glob("*.py")} | {
        path.name for path in REPO.iterdir()
        if path.is_dir() and not path.name.startswith(".")
        and path.name not in SKIPPED_TOP_LEVEL and any(path.rglob("*.py"))
    }
    unknown = sorted(present - FIRST_PARTY)
    assert not unknown, (
        f"top-level {', '.join(unknown)} of the repository is not in FIRST_PARTY of "
        "tests/unit/test_import_direction.py; add it there (and to MAY_IMPORT if it is "
        "below the top layer)")


@pytest.mark.parametrize(("path", "source", "module"), [
    ("stacks/secrets.py", "from synth.lambda_package import build_zip", "synth.lambda_package"),
    ("stacks/app.py", "import main", "main"),
    ("policies/runner.py", "import fast_synth", "fast_synth"),
    ("environments/prod.py", "from synth import synth", "synth"),
    ("constructs_lib/kms_key.py", "from local_deploy import local_aws", "local_deploy"),
    ("policies/runner.py", "import scripts.bench", "scripts.bench"),
    ("constructs_lib/kms_key.py", "import stacks.base", "stacks.base"),
    ("environments/validation.py", "from stacks import registry", "stacks"),
    ("constructs_lib/waivers.py", "from policies.model import Finding", "policies.model"),
    ("environments/prod.py", "from constructs_lib.kms_key import KmsKey",
     "constructs_lib.kms_key"),
    ("constructs_lib/tags.py", "from environments.settings import Settings",
     "environments.settings"),
    ("policies/model.py", "from constructs_lib import formats, tags", "constructs_lib.tags"),
    ("policies/rules/tag001.py", "from ...stacks import base", "stacks"),
    ("lambda_src/secret_rotation/handler.py", "from lambda_src.secret_rotation import x",
     "lambda_src.secret_rotation"),
])
def test_an_import_that_runs_back_up_is_named_with_file_and_line(path, source, module):
    source = f'"""A module."""\n\n\n{source}\n'
    [found] = violations(source, path)
    assert found.startswith(f"{path}:4 imports {module} (`")


@pytest.mark.parametrize(("path", "source"), [
    ("stacks/secrets.py", "from constructs_lib.lambda_package import build_zip"),
    ("stacks/base.py", "from environments.settings import Settings"),
    ("constructs_lib/tags.py", "from environments.tag_keys import REQUIRED_TAG_KEYS"),
    ("environments/validation.py", "from constructs_lib import formats"),
    ("policies/model.py", "from constructs_lib.formats import KEBAB"),
    ("policies/rules/tag001.py", "from ..runner import run"),
    ("lambda_src/secret_rotation/handler.py", "from secret_rotation import helpers"),
    ("constructs_lib/s3_bucket.py", "from constructs import Construct"),
    ("synth/synth.py", "from stacks.app import build_app"),
    ("local_deploy/pr_flow.py", "from synth.synth import run"),
    ("scripts/bench.py", "from local_deploy.process_memory import tree_rss"),
])
def test_imports_that_keep_the_direction_pass(path, source):
    assert violations(source, path) == []


def test_a_planted_package_fails_the_tree_check(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "secrets.py").write_text(textwrap.dedent("""\
        def build():
            # An import inside a function still runs back up.
            from synth.lambda_package import build_zip
            return build_zip
    """))
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "synth.py").write_text("from stacks.secrets import build\n")

    [found] = check_tree(tmp_path)

    assert found.startswith("stacks/secrets.py:3 imports synth.lambda_package "
                            "(`from synth.lambda_package import build_zip`), "
                            "but stacks/ may import only stacks, environments, constructs_lib")
