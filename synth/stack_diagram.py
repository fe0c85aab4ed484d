"""The README's Mermaid diagram of the stacks: phases as subgraphs, deploy
order (thick arrows) and SSM reads (producer --> consumer, labelled)."""

from __future__ import annotations

from collections import defaultdict

from stacks.contracts import ContractGraph
from stacks.registry import STACK_NAMES
from stacks.spec import Phase

MAX_LABEL_CHARS = 32
"""Longer lists of parameter names are shown as a count."""


def edge_label(names: list[str]) -> str:
    text = ", ".join(names)
    if len(text) <= MAX_LABEL_CHARS:
        return text
    return f"{len(names)} parameters"


def ssm_edges(graph: ContractGraph) -> list[tuple[str, str, list[str]]]:
    """(producer, consumer, parameter names) in deploy order of both ends."""
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    prefix = f"/{graph.environment}/"
    for read in graph.reads:
        names[(read.producer, read.consumer)].add(
            read.path.removeprefix(prefix).removeprefix(f"{read.producer}/"))
    order = sorted(names, key=lambda pair: (STACK_NAMES.index(pair[0]),
                                            STACK_NAMES.index(pair[1])))
    return [(p, c, sorted(names[(p, c)])) for p, c in order]


def _phases(graph: ContractGraph) -> list[tuple[Phase, list[str]]]:
    phases: dict[int, tuple[Phase, list[str]]] = {}
    for spec in graph.stacks:
        phases.setdefault(spec.phase.number, (spec.phase, []))[1].append(spec.name)
    return [phases[n] for n in sorted(phases)]


def render(graph: ContractGraph) -> str:
    """The fenced ```mermaid block of one environment's stacks (ends with a newline)."""
    lines = ["```mermaid", "flowchart TB"]
    phases = _phases(graph)
    for phase, stacks in phases:
        how = "in parallel" if phase.parallel else "in order"
        lines.append(f'  subgraph phase{phase.number}["{phase.number}. {phase.name} ({how})"]')
        lines.append("    direction LR")
        if phase.parallel or len(stacks) == 1:
            lines.extend(f"    {name}" for name in stacks)
        else:
            lines.append("    " + " ==> ".join(stacks))
        lines.append("  end")
    if len(phases) > 1:
        lines.append("  " + " ==> ".join(f"phase{phase.number}" for phase, _ in phases))
    for producer, consumer, names in ssm_edges(graph):
        lines.append(f'  {producer} -->|"{edge_label(names)}"| {consumer}')
    lines.append("```")
    return "\n".join(lines) + "\n"
