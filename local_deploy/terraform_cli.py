"""A generated Terraform CLI config that installs hashicorp/aws from a local filesystem mirror.

Used by the local deploy (local_deploy/deploy_local.py), scripts/provider_schema.py and the
integration tests (terraform validate), so that no run needs the registry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

AWS_PROVIDER_VERSION = "5.100.0"
PROVIDER_BINARY = f"terraform-provider-aws_v{AWS_PROVIDER_VERSION}*"

MIRROR_ENV = "TF_PROVIDER_MIRROR"
"""Set it to a mirror root (the directory holding `registry.terraform.io`) to skip the search."""

# Where provider mirrors usually live; searched in order, a few levels deep.
SEARCH_ROOTS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt",
    "/usr/local",
    "/srv",
)
MAX_DEPTH = 8


def find_mirror_root(roots: tuple[str, ...] = SEARCH_ROOTS) -> Path | None:
    """The directory containing `registry.terraform.io/hashicorp/aws/<version>/...`, or None."""
    explicit = os.environ.get(MIRROR_ENV)
    if explicit:
        return Path(explicit)
    for root in roots:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        found = _search(base)
        if found is not None:
            return found
    return None


def _search(base: Path) -> Path | None:
    base_depth = len(base.parts)
    for dirpath, dirnames, filenames in os.walk(base):
        path = Path(dirpath)
        if len(path.parts) - base_depth >= MAX_DEPTH:
            dirnames[:] = []
        dirnames.sort()
        if any(Path(name).match(PROVIDER_BINARY) for name in filenames):
            # <root>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/<binary>
            for parent in path.parents:
                if parent.name == "registry.terraform.io":
                    return parent.parent
    return None


def cli_config_text(mirror_root: Path | None) -> str:
    """CLI config: the mirror for hashicorp/aws (direct for everything else), or plain direct."""
    if mirror_root is None:
        return "provider_installation {\n  direct {}\n}\n"
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror_root))}\n"
        '    include = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/hashicorp/aws"]\n'
        "  }\n"
        "}\n"
    )


def cli_config_env(workdir: Path, *, plugin_cache: bool = False) -> dict[str, str]:
    """Environment variables for running terraform in `workdir` against the local mirror.

    Writes `workdir/terraformrc` and returns TF_CLI_CONFIG_FILE pointing at it,
    CHECKPOINT_DISABLE=1 and, with `plugin_cache`, TF_PLUGIN_CACHE_DIR under
    `workdir`. Merge the result into `os.environ` for the subprocess.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "terraformrc"
    config.write_text(cli_config_text(find_mirror_root()))
    env = {
        "TF_CLI_CONFIG_FILE": str(config),
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
    }
    if plugin_cache:
        cache = workdir / "plugin-cache"
        cache.mkdir(exist_ok=True)
        env["TF_PLUGIN_CACHE_DIR"] = str(cache)
    return env
