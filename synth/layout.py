"""Where the synthesized output lives.

`cdktf.out/<environment>/` for each environment: a complete cdktf output of its own
(`manifest.json`, `stacks/<stack>/cdk.tf.json`), which every tool that reads one
environment (the governance rules, checkov, the address ledger, the local deploy)
takes as its output dir. `cdktf.out/manifest.json` lists every environment's
stacks as `<environment>-<stack>` for the cdktf CLI (`npx cdktf diff prod-kms`):
cdktf-cli 0.21 reads that file and joins each stack's `workingDirectory` to the
output dir (@cdktf/cli-core src/lib/synth-stack.js, `readSynthesizedStacks`).
"""

from __future__ import annotations

import json
from pathlib import Path

from stacks.atlantis_repo_config import OUTPUT_ROOT

MANIFEST = "manifest.json"
STACK_PATH_KEYS = ("stackMetadataPath", "synthesizedStackPath", "workingDirectory")


def cli_stack_name(environment: str, stack: str) -> str:
    """The name the cdktf CLI and the Atlantis project use: `<environment>-<stack>`."""
    return f"{environment}-{stack}"


def project_dir(environment: str, stack: str) -> str:
    """A stack's directory relative to the repository root (Atlantis' project dir)."""
    return f"{OUTPUT_ROOT}/{environment}/stacks/{stack}"


def environment_dirs(root: Path, order: tuple[str, ...] = ()) -> dict[str, Path]:
    """Environment -> its output dir, for every directory of `root` holding a cdktf
    manifest; environments named in `order` first, in that order, then by name."""
    found = {p.parent.name: p.parent for p in sorted(Path(root).glob(f"*/{MANIFEST}"))}
    ranked = [name for name in order if name in found]
    ranked += sorted(name for name in found if name not in ranked)
    return {name: found[name] for name in ranked}


def cli_manifest(root: Path, order: tuple[str, ...] = ()) -> str:
    """The text of `root`/manifest.json: every environment's stacks, renamed
    `<environment>-<stack>`, their paths relative to `root`."""
    stacks: dict[str, dict] = {}
    version = None
    for environment, directory in environment_dirs(root, order).items():
        manifest = json.loads((directory / MANIFEST).read_text())
        version = manifest.get("version", version)
        for name, entry in manifest["stacks"].items():
            renamed = dict(entry, name=cli_stack_name(environment, name))
            for key in STACK_PATH_KEYS:
                if key in entry:
                    renamed[key] = f"{environment}/{entry[key]}"
            stacks[cli_stack_name(environment, name)] = renamed
    return json.dumps({"stacks": stacks, "version": version}, indent=2, sort_keys=True) + "\n"
