"""Memory of a process tree, read from /proc: what `make bench` and the local deploy
measure (a process and its children, e.g. terraform and its provider plugins)."""

from __future__ import annotations

import os


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid`, from /proc."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    found: list[int] = []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0  # gone, or a zombie (no VmRSS line)


def tree_rss(root: int) -> int:
    """VmRSS summed over `root` and every descendant, read from /proc."""
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss(pid)
        pending.extend(child_pids(pid))
    return total
