"""A scratch copy of the repository for tests that plant a change and run `make synth`'s
command in it, and the bytes a failed synth must leave alone."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUARDED = ("cdktf.out", "atlantis.yaml", "README.md")
SKIP = shutil.ignore_patterns(".venv", "node_modules", ".git", "__pycache__", ".pytest_cache",
                              ".ruff_cache", "build", ".synth-*")


def copy_repo(target: Path) -> Path:
    shutil.copytree(REPO, target, ignore=SKIP)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every guarded file."""
    files = {}
    for name in GUARDED:
        path = root / name
        if path.is_dir():
            files.update({str(p.relative_to(root)): p.read_bytes()
                          for p in sorted(path.rglob("*")) if p.is_file()})
        elif path.exists():
            files[name] = path.read_bytes()
    return files


def run_in(copy: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=copy, capture_output=True, text=True,
                          timeout=600, env=env)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"the planted change no longer applies: {old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def declare_address_changes(module: Path, cls: str, lines: list[str]) -> None:
    """Give class `cls` of `module` an `address_changes` tuple holding `lines` (as the
    ledger's message tells an engineer to), importing the declaration types."""
    source = module.read_text()
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.ClassDef) and n.name == cls)
    body = node.body[0]
    has_docstring = isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant)
    after = body.end_lineno if has_docstring else node.lineno
    text = source.splitlines(keepends=True)
    block = ["\n", "    address_changes = (\n", *(f"        {line}\n" for line in lines),
             "    )\n"]
    text[after:after] = block
    names = sorted({line.split("(", 1)[0] for line in lines})
    imports = f"from stacks.address_changes import {', '.join(names)}\n"
    first_import = next(i for i, line in enumerate(text) if line.startswith("from stacks."))
    text.insert(first_import, imports)
    module.write_text("".join(text))
