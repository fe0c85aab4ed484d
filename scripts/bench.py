"""`make bench`: our full synth against a plain eager import of the AWS bindings,
alternating, as a Markdown table of medians (wall, process-tree peak memory) and ratios."""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from local_deploy.process_memory import tree_rss

REPO = Path(__file__).resolve().parent.parent
GOAL_WALL = 0.35
GOAL_MEMORY = 0.70
SAMPLE_SECONDS = 0.02
EAGER_IMPORT = "import cdktf, cdktf_cdktf_provider_aws"
LEDGER_REPEATS = 5
# The address ledger's share of (b): inside the synth the stack classes are
# already imported, so they are imported first and only check() is timed.
LEDGER_PROBE = f"""
import statistics, sys, time
from pathlib import Path
import fast_synth
fast_synth.enable()
from synth.address_ledger import check, registry_declarations
registry_declarations()
times = []
environments = sorted(p.parent.name for p in Path(sys.argv[1]).glob("*/stacks"))
for _ in range({LEDGER_REPEATS}):
    start = time.perf_counter()
    reports = [check(Path("cdktf.out") / env, Path(sys.argv[1]) / env) for env in environments]
    times.append(time.perf_counter() - start)
failed = [r.failure_text() for r in reports if r.failures]
if failed:
    sys.exit("\n".join(failed))
print(statistics.median(times))
"""


@dataclass(frozen=True, kw_only=True)
class Run:
    wall: float
    """Seconds from start to the exit of the process we started."""
    peak_rss: int
    """Bytes: the largest sum of VmRSS over the process and its descendants."""
    returncode: int


def measure(command: list[str], env: dict[str, str]) -> Run:
    """Run `command` once, sampling the memory of its process tree every ~20 ms."""
    peak = 0
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-2000:])
    return Run(wall=wall, peak_rss=peak, returncode=process.returncode)


def policies_importable(env: dict[str, str]) -> bool:
    if importlib.util.find_spec("policies.runner") is None:
        return False
    probe = subprocess.run([sys.executable, "-c", "import policies.runner"], cwd=REPO,
                           env=env, capture_output=True)
    return probe.returncode == 0


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f}"


def _verdict(ratio: float, goal: float) -> str:
    return "PASS" if ratio <= goal else "FAIL"


def ledger_seconds(outdir: str, env: dict[str, str]) -> float | None:
    """Median seconds of the address ledger on a synth in `outdir` (None: it failed)."""
    probe = subprocess.run([sys.executable, "-c", LEDGER_PROBE, outdir], cwd=REPO, env=env,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        sys.stderr.write(probe.stderr[-2000:])
        return None
    return float(probe.stdout.strip())


def report(eager: list[Run], synth: list[Run], *, stacks: int,
           with_policies: bool, ledger: list[float | None]) -> tuple[str, bool]:
    """The Markdown table and whether both ratios meet the goal."""
    a_wall = statistics.median(r.wall for r in eager)
    b_wall = statistics.median(r.wall for r in synth)
    a_mem = statistics.median(r.peak_rss for r in eager)
    b_mem = statistics.median(r.peak_rss for r in synth)
    wall_ratio, mem_ratio = b_wall / a_wall, b_mem / a_mem
    failed_runs = sum(r.returncode != 0 for r in eager + synth)
    ok = wall_ratio <= GOAL_WALL and mem_ratio <= GOAL_MEMORY and failed_runs == 0
    policies = "governance rules included" if with_policies else \
        "**--skip-policies: the policies package is not importable yet**"
    synth_label = f"(b) `main.py --outdir <tmp>`: synth of {stacks} stacks, {policies}"
    lines = [
        f"| measurement ({len(eager)} alternating runs each, median) | wall (s) | "
        "peak memory, process tree (MiB) |",
        "|---|---:|---:|",
        f"| (a) `python -c \"{EAGER_IMPORT}\"` | {a_wall:.2f} | {_mib(a_mem)} |",
        f"| {synth_label} | {b_wall:.2f} | {_mib(b_mem)} |",
        f"| **b / a** (goal: wall ≤ {GOAL_WALL}, memory ≤ {GOAL_MEMORY}) | "
        f"**{wall_ratio:.2f} {_verdict(wall_ratio, GOAL_WALL)}** | "
        f"**{mem_ratio:.2f} {_verdict(mem_ratio, GOAL_MEMORY)}** |",
    ]
    runs = "; ".join(
        f"a {a.wall:.2f} s/{_mib(a.peak_rss)} MiB, b {b.wall:.2f} s/{_mib(b.peak_rss)} MiB"
        for a, b in zip(eager, synth, strict=True))
    if None in ledger:
        lines.append("| (c) address ledger (inside (b)) | **failed, stderr above** | |")
        ok = False
    else:
        c_wall = statistics.median(ledger)  # type: ignore[type-var]
        lines.append(f"| (c) address ledger inside (b): compare with cdktf.out/ (median of "
                     f"{LEDGER_REPEATS} per run) | {c_wall:.3f} ({c_wall / b_wall:.1%} of b) | |")
    lines += ["", f"Runs: {runs}."]
    if failed_runs:
        lines.append(f"**{failed_runs} run(s) exited non-zero (stderr above): "
                     "the result is not valid.**")
    lines.append(f"Result: **{'PASS' if ok else 'FAIL'}**")
    return "\n".join(lines), ok


def machine() -> str:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, node {node}, "
            f"load average {os.getloadavg()[0]:.2f} at start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each command (default 3, at least 3)")
    args = parser.parse_args(argv)
    if args.runs < 3:
        parser.error("--runs must be at least 3")

    env = dict(os.environ, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20")
    env.pop("CDKTF_FAST_SYNTH", None)  # benchmark the app as `make synth` runs it
    with_policies = policies_importable(env)
    stacks = 0
    print(f"Benchmark on {machine()}", flush=True)
    eager: list[Run] = []
    synth: list[Run] = []
    ledger: list[float | None] = []
    for number in range(1, args.runs + 1):
        eager.append(measure([sys.executable, "-c", EAGER_IMPORT], env))
        print(f"run {number}/{args.runs}: (a) {eager[-1].wall:.2f} s", end="", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
            command = [sys.executable, "main.py", "--outdir", outdir]
            if not with_policies:
                command.append("--skip-policies")
            synth.append(measure(command, env))
            # Every environment's stacks (cdktf.out/<env>/stacks/<stack>).
            stacks = len(list(Path(outdir).glob("*/stacks/*")))
            ledger.append(ledger_seconds(outdir, env))
        print(f", (b) {synth[-1].wall:.2f} s", flush=True)
    table, ok = report(eager, synth, stacks=stacks, with_policies=with_policies,
                       ledger=ledger)
    print()
    print(table)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
