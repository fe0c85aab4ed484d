"""Build the cdktf App: every registered stack, in deploy order."""

from __future__ import annotations

from cdktf import App

from environments.settings import Settings
from stacks.base import BuildContext
from stacks.contracts import ContractGraph
from stacks.registry import STACKS


def build_app(
    settings: Settings,
    outdir: str,
    *,
    bootstrap_backend: str = "s3",
    only: tuple[str, ...] | None = None,
) -> tuple[App, ContractGraph]:
    """Construct all stacks (or the first ones up to those in `only`).

    Raises ConfigError before anything is written when a stack's props or SSM
    reads are wrong.
    """
    app = App(outdir=outdir, skip_validation=False)
    graph = ContractGraph(environment=settings.name, stacks=STACKS)
    context = BuildContext(settings=settings, graph=graph, bootstrap_backend=bootstrap_backend)
    for spec in STACKS:
        if only is not None and spec.name not in only:
            continue
        spec.build(app, context)
    return app, graph
