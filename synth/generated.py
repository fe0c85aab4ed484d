"""Files generated from the stack registry, the SSM graph, the construct library and
the synthesized output (atlantis.yaml, the README diagram, stack table, props tables
and cost table). Each generator returns the file's full new content."""

from __future__ import annotations

import re
from pathlib import Path

from constructs_lib.errors import ConfigError
from cost.environment_output import EnvironmentOutput
from cost.estimate import estimate
from cost.report import readme_section
from environments.settings import Settings
from stacks.contracts import ContractGraph
from synth import atlantis_config, construct_docs, stack_diagram

REPO = Path(__file__).resolve().parent.parent
ATLANTIS_YAML = REPO / "atlantis.yaml"
README = REPO / "README.md"


Environments = dict[str, tuple[Settings, ContractGraph]]
"""Environment name -> its settings and contract graph, in promotion order."""


def generated_files(environments: Environments, root: Path) -> dict[Path, str]:
    """Absolute path -> full new content, for every generated file; `root` holds
    every environment's output (`<root>/<env>/stacks/...`)."""
    readme = README.read_text() if README.exists() else ""
    readme = replace_section(readme, "environments", environment_table(environments))
    readme = replace_section(readme, "stack-diagram", "\n".join(
        f"`{name}`:\n\n{stack_diagram.render(graph)}"
        for name, (_, graph) in environments.items()))
    readme = replace_section(readme, "stack-table", "\n".join(
        f"`{name}` ({len(graph.stacks)} stacks):\n\n{stack_table(graph)}"
        for name, (_, graph) in environments.items()))
    readme = replace_section(readme, "construct-props", construct_docs.render())
    readme = replace_section(readme, "cost-table", "\n".join(
        f"`{name}`:\n\n{cost_table(root / name, settings)}"
        for name, (settings, _) in environments.items()))
    return {
        ATLANTIS_YAML: atlantis_config.render(environments, root),
        README: readme,
    }


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(text: str, name: str, body: str) -> str:
    """`text` with everything between the `name` markers replaced by `body`;
    the rest of the file is kept byte for byte."""
    start, end = markers(name)
    pattern = re.compile(re.escape(start) + r"\n.*?" + re.escape(end), re.DOTALL)
    found = len(pattern.findall(text))
    if found != 1:
        raise ConfigError([
            (f"README.md must contain the markers {start!r} and {end!r} exactly once "
             f"(each on its own line), found {found} pair(s); the generated section "
             f"{name!r} goes between them.")])
    return pattern.sub(lambda _: f"{start}\n{body}{end}", text)


def stack_table(graph: ContractGraph) -> str:
    """A Markdown table of the stacks in deploy order (ends with a newline)."""
    published: dict[str, int] = {}
    for stack in graph.published.values():
        published[stack] = published.get(stack, 0) + 1
    rows = [
        "| phase | stack | holds | reads SSM parameters from | parameters published |",
        "|---|---|---|---|---|",
    ]
    for spec in graph.stacks:
        reads = ", ".join(f"`{s}`" for s in graph.upstream(spec.name)) or "-"
        rows.append(
            f"| {spec.phase.number} {spec.phase.name} | `{spec.name}` | {spec.purpose} "
            f"| {reads} | {published.get(spec.name, 0)} |")
    return "\n".join(rows) + "\n"


def environment_table(environments: Environments) -> str:
    """A Markdown table of what differs between the environments (ends with a newline)."""
    rows = [
        "| environment | account | region | domain | VPC | NAT gateways | database "
        "| Atlantis | applied after | stacks |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, (s, graph) in environments.items():
        db = s.database
        nat = len(s.network.public_subnets) if s.network.multi_az_nat else 1
        database = (f"{db.instance_class}, {'Multi-AZ' if db.multi_az else 'single-AZ'}, "
                    f"{db.allocated_storage_gib}-{db.max_allocated_storage_gib} GiB")
        atlantis = (f"runs the server ({s.atlantis.task_cpu // 1024} vCPU, "
                    f"{s.atlantis.task_memory_mib // 1024} GiB)" if s.atlantis
                    else f"planned by `{s.planned_by}`'s server")
        rows.append(
            f"| `{name}` | {s.account_id} | {s.region} | {s.domain} | {s.network.vpc_cidr} "
            f"| {nat} | {database} | {atlantis} | {f'`{s.promotes_from}`' if s.promotes_from else '-'} "
            f"| {len(graph.stacks)} |")
    return "\n".join(rows) + "\n"


def cost_table(outdir: Path, settings: Settings) -> str:
    """The monthly estimate of the output next to the reference table (cost/report.py)."""
    return readme_section(estimate(EnvironmentOutput.load(outdir), settings.cost))
