"""`python -m synth.freshness`: fail (exit 1), listing the files, when the committed
cdktf.out/, atlantis.yaml or README.md differ from what a fresh synth produces."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GENERATED = ("atlantis.yaml", "README.md")


def is_local_state(relative: Path) -> bool:
    """Files Terraform leaves in a stack dir after a manual init/plan (git ignores them)."""
    return any(
        part.startswith((".terraform", "terraform.tfstate")) or part.endswith(".tfplan")
        for part in relative.parts
    )


def tree(root: Path) -> dict[str, Path]:
    """Relative POSIX path -> file, for every file under `root` except local state."""
    if not root.is_dir():
        return {}
    files = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not is_local_state(relative):
            files[relative.as_posix()] = path
    return files


def compare_trees(fresh: Path, committed: Path, prefix: str = "",
                  what: str = "committed") -> list[str]:
    """Lines naming every stale, missing and extra file of `committed` (described
    as `what` in the lines) compared with `fresh`."""
    new, old = tree(fresh), tree(committed)
    problems = []
    for name in sorted(new.keys() | old.keys()):
        shown = f"{prefix}{name}"
        if name not in old:
            problems.append(f"missing: {shown} (synth produces it, it is not {what})")
        elif name not in new:
            problems.append(f"extra: {shown} ({what}, synth does not produce it)")
        elif new[name].read_bytes() != old[name].read_bytes():
            problems.append(f"stale: {shown}")
    return problems


def compare_generated(generated: Path, repo: Path = REPO) -> list[str]:
    problems = []
    for name in GENERATED:
        fresh, committed = generated / name, repo / name
        if not fresh.exists():
            problems.append(f"not generated: {name}")
        elif not committed.exists():
            problems.append(f"missing: {name} (synth produces it, it is not committed)")
        elif fresh.read_bytes() != committed.read_bytes():
            problems.append(f"stale: {name}")
    return problems


def stale_files(synth_root: Path, repo: Path = REPO) -> list[str]:
    """Differences between a synth in `synth_root` (out/ and generated/) and `repo`."""
    return (compare_trees(synth_root / "out", repo / "cdktf.out", "cdktf.out/")
            + compare_generated(synth_root / "generated", repo))


def synthesize(root: Path) -> None:
    """Synthesize the app into `root`/out and its generated files into `root`/generated."""
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    result = subprocess.run(
        [sys.executable, "main.py", "--outdir", str(root / "out"),
         "--generated-to", str(root / "generated"), "--skip-policies"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"freshness: synth failed\n{result.stdout}{result.stderr}")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="freshness-") as tmp:
        synthesize(Path(tmp))
        problems = stale_files(Path(tmp))
    if problems:
        print("The committed generated files are not what `make synth` produces:",
              file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("Run `make synth` and commit the result.", file=sys.stderr)
        return 1
    print("cdktf.out/, atlantis.yaml and README.md are fresh.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
