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


PROD = "prod"
"""The environment most tests read: the reference's, with every stack."""


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A fresh synth of every environment plus its generated files:
    <dir>/out (like cdktf.out: <env>/stacks/...) and <dir>/generated (atlantis.yaml,
    README.md)."""
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
def synth_root(synth_dir) -> Path:
    """The output root (like cdktf.out): one directory per environment."""
    return synth_dir / "out"


@pytest.fixture(scope="session")
def synth_out(synth_root) -> Path:
    """prod's output dir (`<root>/prod`, holding stacks/<stack>/cdk.tf.json)."""
    return synth_root / PROD


@pytest.fixture(scope="session")
def env_stack_json(synth_root):
    """(environment, stack name) -> parsed cdk.tf.json."""
    cache: dict[tuple[str, str], dict] = {}

    def load(environment: str, name: str) -> dict:
        if (environment, name) not in cache:
            path = synth_root / environment / "stacks" / name / "cdk.tf.json"
            cache[(environment, name)] = json.loads(path.read_text())
        return cache[(environment, name)]

    return load


@pytest.fixture(scope="session")
def stack_json(env_stack_json):
    """stack name -> prod's parsed cdk.tf.json."""
    return lambda name: env_stack_json(PROD, name)
