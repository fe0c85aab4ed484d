"""The README props tables generated from the construct library's source."""

from __future__ import annotations

import textwrap

import pytest

from tools import construct_docs
from tools.construct_docs import CONSTRUCT_MODULES, LIBRARY, read_module, render

CONSTRUCTS = {
    "kms_key": "KmsKey",
    "s3_bucket": "S3Bucket",
    "iam_role_policy": "IamRolePolicy",
    "security_group": "SecurityGroup",
    "cloudwatch_log_group": "CloudwatchLogGroup",
    "sns": "SnsTopic",
    "rds": "RdsInstance",
    "ecr": "EcrRepository",
    "alb": "ApplicationLoadBalancer",
    "lambda_function": "LambdaFunction",
}


@pytest.fixture(scope="module")
def text() -> str:
    return render()


def row(text: str, prop: str) -> list[str]:
    """The cells of the first table row for `prop`."""
    line = next(line for line in text.splitlines() if line.startswith(f"| `{prop}` |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def section(text: str, construct: str) -> str:
    start = text.index(f"### `{construct}`")
    following = text.find("\n### ", start + 1)
    return text[start:] if following == -1 else text[start:following]


def test_every_construct_has_a_section_with_its_props_table(text):
    assert set(CONSTRUCT_MODULES) == set(CONSTRUCTS)
    for module, construct in CONSTRUCTS.items():
        part = section(text, construct)
        assert f"(`constructs_lib/{module}.py`)" in part
        assert f"`{construct}Props`:" in part
        assert construct_docs.HEADER[0] in part


def test_sections_follow_the_catalogue_order(text):
    positions = [text.index(f"### `{CONSTRUCTS[m]}`") for m in CONSTRUCT_MODULES]
    assert positions == sorted(positions)


def test_construct_summary_is_the_first_docstring_paragraph(text):
    part = section(text, "SecurityGroup")
    assert ("A security group with separate rule resources (never inline rules, so rules "
            "added elsewhere are not fought over), revoking rules on delete.") in part


def test_required_prop_has_a_dash_as_default(text):
    name, type_, default, _ = row(section(text, "CloudwatchLogGroup"), "kms_key")
    assert (name, type_, default) == ("`kms_key`", "`KeyRef`", "—")


def test_default_and_docstring_of_an_optional_prop(text):
    cells = row(section(text, "CloudwatchLogGroup"), "retention_in_days")
    assert cells == ["`retention_in_days`", "`int`", "`365`",
                     "One of the values CloudWatch accepts. Left out: 365."]


def test_union_types_are_escaped_for_the_table(text):
    _, type_, default, doc = row(section(text, "CloudwatchLogGroup"), "short_retention_reason")
    assert (type_, default) == ("`str \\| None`", "`None`")
    assert "CKV_AWS_338" in doc


def test_default_factory_and_imported_constant_defaults(text):
    assert row(section(text, "IamRolePolicy"), "inline_policies")[2] == "`{}`"
    assert (row(section(text, "KmsKey"), "deletion_window_in_days")[2]
            == "`30` (`KMS_DELETION_WINDOW_DAYS`)")


def test_every_prop_has_a_docstring():
    """STYLE habit 1: a prop says what it means and what happens when left out."""
    missing = [f"{props.name}.{prop.name}"
               for module in CONSTRUCT_MODULES
               for props in read_module(LIBRARY, module).props_classes
               for prop in props.props if not prop.doc]
    assert missing == []


def test_output_is_deterministic():
    assert render() == render()
    assert render().endswith("|\n")


def test_only_frozen_kw_only_props_classes_are_read(tmp_path):
    (tmp_path / "widget.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass, field
        from constructs import Construct

        @dataclass(frozen=True, kw_only=True)
        class WidgetProps:
            size: int
            """How big."""
            labels: list[str] = field(default_factory=list)
            """Left empty: none."""

        @dataclass
        class LooseProps:
            ignored: int = 1

        class Widget(Construct):
            """A widget.

            More detail."""
    '''))
    doc = read_module(tmp_path, "widget")
    assert (doc.construct, doc.summary) == ("Widget", "A widget.")
    assert [p.name for p in doc.props_classes] == ["WidgetProps"]
    assert [(p.name, p.default, p.doc) for p in doc.props_classes[0].props] == [
        ("size", None, "How big."), ("labels", "`[]`", "Left empty: none.")]


def test_module_without_props_is_an_error(tmp_path):
    (tmp_path / "empty.py").write_text("class Empty:\n    pass\n")
    with pytest.raises(ValueError, match="no `@dataclass"):
        read_module(tmp_path, "empty")
