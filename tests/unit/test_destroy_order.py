"""The local deploy's destroy order: atlantis.yaml's depends_on of one environment,
reversed, as many stacks at once as it allows (local_deploy/deploy_local.py)."""

from __future__ import annotations

import threading
import time

import pytest

from local_deploy.deploy_local import REPO, _depends_on, _run_graph


def _consumers(depends_on: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: {o for o, needs in depends_on.items() if name in needs}
            for name in depends_on}


def _played(names, after, fail=None, events=None):
    events, lock = [] if events is None else events, threading.Lock()

    def action(name):
        with lock:
            events.append(("start", name))
        time.sleep(0.02)
        if name == fail:
            raise RuntimeError(f"{name} failed")
        with lock:
            events.append(("end", name))

    _run_graph(names, after, action)
    return events


def test_depends_on_keeps_the_environment_and_drops_the_promotion_twin():
    prod = _depends_on(REPO / "atlantis.yaml", "prod")
    assert prod["monitoring"] >= {"bootstrap", "atlantis", "rds"}
    assert all(not any(d.startswith("staging") for d in deps) for deps in prod.values())
    assert prod["bootstrap"] == set()


def test_every_stack_goes_after_the_stacks_that_read_from_it_and_bootstrap_last():
    depends_on = _depends_on(REPO / "atlantis.yaml", "prod")
    names = list(depends_on)
    events = _played(names, _consumers(depends_on))
    started = {name: i for i, (kind, name) in enumerate(events) if kind == "start"}
    ended = {name: i for i, (kind, name) in enumerate(events) if kind == "end"}
    assert set(started) == set(names)
    for consumer, needs in depends_on.items():
        for producer in needs:
            assert ended[consumer] < started[producer], (consumer, producer)
    assert events[-1] == ("end", "bootstrap")
    # rds does not wait for atlantis (neither reads from the other): they overlap.
    assert started["rds"] < ended["atlantis"] and started["atlantis"] < ended["rds"]


def test_after_a_failure_nothing_new_starts_and_the_failure_is_raised():
    depends_on = _depends_on(REPO / "atlantis.yaml", "prod")
    events = []
    with pytest.raises(RuntimeError, match="monitoring failed"):
        _played(list(depends_on), _consumers(depends_on), fail="monitoring", events=events)
    started = {name for kind, name in events if kind == "start"}
    # What reads nothing of the failed stack still ran; what waited for it never started.
    assert {"monitoring", "logging", "cloudtrail"} <= started
    assert not started & {"atlantis", "rds", "network", "kms", "bootstrap"}
