"""drift.outdir: the stacks of an environment output dir, in deploy order."""

from __future__ import annotations

import pytest

from drift.outdir import environment_outdir, select, stacks_in
from stacks.registry import STACK_NAMES


def _outdir(tmp_path, *names):
    for name in names:
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text("{}")
    return tmp_path


def test_the_stacks_present_come_in_registry_order(tmp_path):
    # An environment may have fewer stacks than prod (staging: no atlantis, no secrets).
    outdir = _outdir(tmp_path, "monitoring", "bootstrap", "rds", "kms")
    assert stacks_in(outdir, STACK_NAMES) == ["bootstrap", "kms", "rds", "monitoring"]


def test_a_dir_without_stack_json_is_not_a_stack(tmp_path):
    outdir = _outdir(tmp_path, "kms")
    (tmp_path / "stacks" / "empty").mkdir()
    assert stacks_in(outdir, STACK_NAMES) == ["kms"]


def test_an_unknown_stack_is_refused_with_a_sentence(tmp_path):
    outdir = _outdir(tmp_path, "kms", "old-stack")
    with pytest.raises(ValueError, match="holds old-stack, which the stack registry does not"):
        stacks_in(outdir, STACK_NAMES)


def test_an_empty_dir_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"holds no stacks/<stack>/cdk\.tf\.json"):
        stacks_in(tmp_path, STACK_NAMES)


def test_select_keeps_deploy_order_and_refuses_absent_names():
    available = ["bootstrap", "kms", "network"]
    assert select(available, "network,kms") == ["kms", "network"]
    assert select(available, None) == available
    with pytest.raises(ValueError, match="--stacks names rds, not in this output dir"):
        select(available, "kms,rds")


def test_an_environment_names_its_output_dir_or_is_refused_with_the_ones_there(tmp_path):
    for name in ("staging", "prod"):
        _outdir(tmp_path / name, "kms")
    (tmp_path / "notes").mkdir()  # no stacks/: not an environment's output
    assert environment_outdir("prod", tmp_path) == tmp_path / "prod"
    with pytest.raises(ValueError, match=r"--environment 'notes': .* holds no output of it "
                                         r"\(it holds: prod, staging\)"):
        environment_outdir("notes", tmp_path)
    with pytest.raises(ValueError, match=r"no environment named: pass --environment <env> "
                                         r"\(make drift ENVIRONMENT=<env>\); .* holds: "
                                         r"prod, staging"):
        environment_outdir("", tmp_path)
