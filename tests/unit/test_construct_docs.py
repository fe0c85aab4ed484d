"""The README props tables generated from the construct library's source."""

from __future__ import annotations

import textwrap

import pytest

from synth import construct_docs, generated
from synth.construct_docs import LIBRARY, construct_modules, read_module, render

WIDGET = textwrap.dedent('''
    from dataclasses import dataclass
    from constructs import Construct

    @dataclass(frozen=True, kw_only=True)
    class {name}Props:
        size: int
        """How big."""

    class {name}(Construct):
        """A {name}."""
''')


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


def test_readme_holds_what_the_library_renders():
    """A construct added, removed or changed without `make synth` fails here."""
    readme = generated.README.read_text()
    assert generated.replace_section(readme, "construct-props", render()) == readme, (
        "README.md's construct-props section is not what synth/construct_docs.py renders "
        "from constructs_lib/; run `make synth` and commit README.md")


def test_every_construct_module_has_a_section_with_its_props_table(text):
    for module in construct_modules():
        doc = read_module(LIBRARY, module)
        part = section(text, doc.construct)
        assert f"(`constructs_lib/{module}.py`)" in part
        assert f"`{doc.props_classes[0].name}`:" in part
        assert construct_docs.HEADER[0] in part


def test_construct_modules_are_found_not_listed(tmp_path):
    """A module with a public Construct subclass is documented; helpers and private
    constructs are not; README_ORDER orders, the rest follow by name."""
    for name in ("Zeta", "Alpha", "Kms"):
        (tmp_path / f"{name.lower()}.py").write_text(WIDGET.format(name=name))
    (tmp_path / "refs.py").write_text("class KeyRef:\n    arn: str\n")
    (tmp_path / "hidden.py").write_text(
        "from constructs import Construct\nclass _Part(Construct):\n    pass\n")
    (tmp_path / "_private.py").write_text(WIDGET.format(name="Private"))
    assert construct_modules(tmp_path, order=("kms",)) == ("kms", "alpha", "zeta")
    assert [line for line in render(tmp_path, order=()).splitlines() if line.startswith("###")] == [
        "### `Alpha` (`constructs_lib/alpha.py`)", "### `Kms` (`constructs_lib/kms.py`)",
        "### `Zeta` (`constructs_lib/zeta.py`)"]


def test_an_order_entry_without_its_module_is_an_error(tmp_path):
    (tmp_path / "alpha.py").write_text(WIDGET.format(name="Alpha"))
    with pytest.raises(ValueError, match=r"README_ORDER names 'gone', but .* allowed are alpha"):
        construct_modules(tmp_path, order=("alpha", "gone"))


def test_a_construct_module_without_props_is_an_error(tmp_path):
    (tmp_path / "bare.py").write_text(
        "from constructs import Construct\nclass Bare(Construct):\n    pass\n")
    with pytest.raises(ValueError, match=r"bare\.py: no `@dataclass"):
        render(tmp_path, order=())


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
    assert row(section(text, "IamRoleWithPolicies"), "inline_policies")[2] == "`{}`"
    assert (row(section(text, "KmsKey"), "deletion_window_in_days")[2]
            == "`30` (`KMS_DELETION_WINDOW_DAYS`)")


def test_every_prop_has_a_docstring():
    """STYLE habit 1: a prop says what it means and what happens when left out."""
    missing = [f"{props.name}.{prop.name}"
               for module in construct_modules()
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
