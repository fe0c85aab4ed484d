"""Build the cdktf App of one environment: its registered stacks, in deploy order."""

from __future__ import annotations

from cdktf import App

from environments import load_environment, served_by
from environments.settings import Settings
from stacks.base import BuildContext
from stacks.contracts import ContractGraph
from stacks.registry import stacks_for


def build_context(settings: Settings, *, bootstrap_backend: str = "s3") -> BuildContext:
    """What every stack of `settings`'s environment is handed: its contract graph,
    the environment whose Atlantis server plans it and, for a server, whom it serves."""
    host = load_environment(settings.planned_by) if settings.planned_by else settings
    return BuildContext(
        settings=settings,
        graph=ContractGraph(environment=settings.name, stacks=stacks_for(settings)),
        atlantis_host=host,
        served=served_by(settings),
        bootstrap_backend=bootstrap_backend,
    )


def build_app(
    settings: Settings,
    outdir: str,
    *,
    bootstrap_backend: str = "s3",
    only: tuple[str, ...] | None = None,
) -> tuple[App, ContractGraph]:
    """Construct the environment's stacks (or only those in `only`).

    Raises ConfigError before anything is written when a stack's props or SSM
    reads are wrong.
    """
    app = App(outdir=outdir, skip_validation=False)
    context = build_context(settings, bootstrap_backend=bootstrap_backend)
    graph = context.graph
    for spec in graph.stacks:
        if only is not None and spec.name not in only:
            continue
        spec.build(app, context)
    return app, graph
