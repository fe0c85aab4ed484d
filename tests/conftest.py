"""Session fixtures: the whole app is synthesized once per test session.

The synth runs main.py in a subprocess (exactly what `make synth` runs, minus
publishing), so tests read plain JSON and pay the binding import once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fast_synth

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Before any test module imports the stack registry (it imports every stack
# module) or a construct: lazy AWS bindings, a fraction of a second instead of
# the package's eager ~10 s import in this process.
fast_synth.enable()


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A fresh synth of every stack plus its generated files:
    <dir>/out (like cdktf.out) and <dir>/generated (atlantis.yaml, README.md)."""
    root = tmp_path_factory.mktemp("synth")
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(root / "out"),
         "--generated-to", str(root / "generated"), "--skip-policies"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    if result.returncode != 0:
        pytest.fail(f"synth failed:\n{result.stdout}\n{result.stderr}")
    return root


@pytest.fixture(scope="session")
def synth_out(synth_dir) -> Path:
    return synth_dir / "out"


@pytest.fixture(scope="session")
def stack_json(synth_out):
    """stack name -> parsed cdk.tf.json."""
    cache: dict[str, dict] = {}

    def load(name: str) -> dict:
        if name not in cache:
            cache[name] = json.loads((synth_out / "stacks" / name / "cdk.tf.json").read_text())
        return cache[name]

    return load
