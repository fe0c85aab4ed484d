"""The README's construct library section: one props table per construct, read
from the source of `constructs_lib/` with `ast` (no cdktf import needed). Which
constructs there are is read from the package too: a new construct module is
documented without being listed anywhere."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "constructs_lib"

README_ORDER = (
    "kms_key",
    "s3_bucket",
    "iam_role_policy",
    "security_group",
    "cloudwatch_log_group",
    "sns",
    "metric_alarm",
    "event_forwarder",
    "rds",
    "ecr",
    "alb",
    "lambda_function",
)
"""Only the order the README lists the constructs in (the key first: most constructs
take its `KeyRef`), not which constructs there are: a construct module missing here
is listed after these, in name order."""
REQUIRED = "—"
HEADER = (
    "| prop | type | default | what happens when left out / meaning |",
    "|---|---|---|---|",
)


@dataclass(frozen=True, kw_only=True)
class Prop:
    name: str
    type: str
    default: str | None
    """Markdown for the default; None when the prop is required."""
    doc: str
    """The attribute docstring on one line; empty when there is none."""


@dataclass(frozen=True, kw_only=True)
class PropsClass:
    name: str
    props: tuple[Prop, ...]


@dataclass(frozen=True, kw_only=True)
class ConstructDoc:
    module: str
    construct: str
    summary: str
    """The construct class docstring's summary: its first paragraph on one line
    (a first line alone can end mid-sentence)."""
    props_classes: tuple[PropsClass, ...]


def render(library: Path = LIBRARY, order: tuple[str, ...] = README_ORDER) -> str:
    """The Markdown of every construct of `library` (ends with a newline)."""
    return "\n".join(render_construct(read_module(library, m))
                     for m in construct_modules(library, order))


def construct_modules(library: Path = LIBRARY,
                      order: tuple[str, ...] = README_ORDER) -> tuple[str, ...]:
    """Every public module of `library` that defines a public `Construct` subclass,
    in README order: those named in `order` first, then the rest by name."""
    found = sorted(
        path.stem for path in library.glob("*.py")
        if not path.stem.startswith("_") and any(
            not node.name.startswith("_") for node in _constructs(_tree(path))))
    stale = [name for name in order if name not in found]
    if stale:
        raise ValueError(
            f"synth/construct_docs.py: README_ORDER names {', '.join(map(repr, stale))}, "
            f"but {library} has no such module with a public Construct subclass; allowed "
            f"are {', '.join(found)} (remove the name, or rename it after its module)")
    return (*order, *(name for name in found if name not in order))


def render_construct(doc: ConstructDoc) -> str:
    lines = [f"### `{doc.construct}` (`constructs_lib/{doc.module}.py`)", ""]
    if doc.summary:
        lines += [doc.summary, ""]
    for props_class in doc.props_classes:
        lines += [f"`{props_class.name}`:", "", *HEADER]
        for prop in props_class.props:
            default = REQUIRED if prop.default is None else prop.default
            lines.append(f"| `{prop.name}` | `{_cell(prop.type)}` | {_cell(default)} "
                         f"| {_cell(prop.doc)} |")
        lines.append("")
    return "\n".join(lines)


def read_module(library: Path, module: str) -> ConstructDoc:
    """The construct and props classes of `constructs_lib/<module>.py`."""
    path = library / f"{module}.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    constants = _constants(tree, library)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    props_classes = tuple(
        PropsClass(name=node.name, props=_props(node, constants))
        for node in classes if node.name.endswith("Props") and _is_props_dataclass(node))
    if not props_classes:
        raise ValueError(f"{path}: no `@dataclass(frozen=True, kw_only=True)` class "
                         "whose name ends in `Props`")
    construct = _construct_class(tree, props_classes, path)
    docstring = ast.get_docstring(construct) or ""
    return ConstructDoc(module=module, construct=construct.name,
                        summary=" ".join(docstring.strip().split("\n\n", 1)[0].split()),
                        props_classes=props_classes)


def _construct_class(tree: ast.Module, props_classes: tuple[PropsClass, ...],
                     path: Path) -> ast.ClassDef:
    constructs = _constructs(tree)
    by_name = {node.name: node for node in constructs}
    # `KmsKeyProps` belongs to `KmsKey`; otherwise the module's only construct.
    for props_class in props_classes:
        if props_class.name.removesuffix("Props") in by_name:
            return by_name[props_class.name.removesuffix("Props")]
    if len(constructs) == 1:
        return constructs[0]
    raise ValueError(f"{path}: cannot tell which Construct subclass the props belong to "
                     f"(found {sorted(by_name)})")


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _constructs(tree: ast.Module) -> list[ast.ClassDef]:
    """The module's classes that subclass `Construct` directly (`Construct` or
    `x.Construct`), or a resource class of the AWS bindings: a construct that is
    the resource itself, such as `MetricAlarm`."""
    bindings = {alias.asname or alias.name for node in tree.body
                if isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("cdktf_cdktf_provider_aws.")
                for alias in node.names}
    return [node for node in tree.body if isinstance(node, ast.ClassDef) and any(
        ast.unparse(base).split(".")[-1] == "Construct" or ast.unparse(base) in bindings
        for base in node.bases)]


def _is_props_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "dataclass"):
            keywords = {k.arg: ast.unparse(k.value) for k in decorator.keywords}
            if keywords.get("frozen") == "True" and keywords.get("kw_only") == "True":
                return True
    return False


def _props(node: ast.ClassDef, constants: dict[str, object]) -> tuple[Prop, ...]:
    props = []
    body = node.body
    for i, statement in enumerate(body):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        following = body[i + 1] if i + 1 < len(body) else None
        doc = ""
        if (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            doc = " ".join(following.value.value.split())
        props.append(Prop(
            name=statement.target.id,
            type=ast.unparse(statement.annotation),
            default=None if statement.value is None else _default(statement.value, constants),
            doc=doc,
        ))
    return tuple(props)


def _default(value: ast.expr, constants: dict[str, object]) -> str | None:
    """Markdown for a field's default; None for `field()` without one (required)."""
    if isinstance(value, ast.Call) and ast.unparse(value.func) in ("field", "dataclasses.field"):
        keywords = {k.arg: k.value for k in value.keywords}
        if "default" in keywords:
            return _default(keywords["default"], constants)
        if "default_factory" in keywords:
            factory = ast.unparse(keywords["default_factory"])
            empty = {"dict": "{}", "list": "[]", "tuple": "()", "set": "set()"}
            return f"`{empty.get(factory, factory + '()')}`"
        return None
    if isinstance(value, ast.Name) and value.id in constants:
        return f"`{constants[value.id]!r}` (`{value.id}`)"
    return f"`{ast.unparse(value)}`"


def _constants(tree: ast.Module, library: Path) -> dict[str, object]:
    """Module-level literal constants of the module and of what it imports from
    `constructs_lib`, so that a default like `KMS_DELETION_WINDOW_DAYS` shows its value."""
    found: dict[str, object] = {}
    for statement in tree.body:
        if (isinstance(statement, ast.ImportFrom) and statement.module
                and statement.module.startswith("constructs_lib.")):
            source = library / f"{statement.module.removeprefix('constructs_lib.')}.py"
            if source.exists():
                imported = _literals(ast.parse(source.read_text(), filename=str(source)))
                for alias in statement.names:
                    if alias.name in imported:
                        found[alias.asname or alias.name] = imported[alias.name]
    found.update(_literals(tree))
    return found


def _literals(tree: ast.Module) -> dict[str, object]:
    literals: dict[str, object] = {}
    for statement in tree.body:
        target = value = None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        if isinstance(target, ast.Name):
            try:
                literals[target.id] = ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError):
                continue
    return literals


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
