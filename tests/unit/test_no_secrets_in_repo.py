"""No literal secret is committed anywhere in the repository (SEC004's patterns,
applied to every tracked file, not only to the synthesized JSON)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from policies.rules.sec004_literal_secrets import PATTERNS

REPO = Path(__file__).resolve().parents[2]
# The rule's own tests plant fake secrets to prove SEC004 catches them.
PLANTED_ON_PURPOSE = {"tests/unit/policies/test_policy_security.py"}


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            text=True, check=False)
    if listed.returncode == 0 and listed.stdout:
        return [f for f in listed.stdout.split("\0") if f]
    # Not a git checkout (an unpacked archive): every file outside the tool dirs.
    skip = {".venv", "node_modules", ".git"}
    return [str(p.relative_to(REPO)) for p in REPO.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO).parts)]


def test_no_tracked_file_holds_a_literal_secret():
    found = []
    for name in tracked_files():
        if name in PLANTED_ON_PURPOSE:
            continue
        try:
            text = (REPO / name).read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary (the Lambda zip) or deleted in the work tree
        found += [f"{name}: {what}" for what, pattern in PATTERNS.items()
                  if pattern.search(text)]
    assert not found, found


def test_the_scan_sees_a_planted_secret():
    planted = REPO / "tests/unit/policies/test_policy_security.py"
    assert any(p.search(planted.read_text()) for p in PATTERNS.values())
