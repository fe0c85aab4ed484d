"""A generated Terraform CLI config: hashicorp/aws from a local filesystem mirror where the
machine has one, the public registry where it has none (a GitHub runner, a laptop).

Used by the local deploy (local_deploy/deploy_local.py), scripts/provider_schema.py and the
integration tests (terraform validate), so that a run on a machine with a mirror needs no
registry, and a run elsewhere needs nothing but the registry.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

AWS_PROVIDER_VERSION = "5.100.0"
PROVIDER_BINARY = f"terraform-provider-aws_v{AWS_PROVIDER_VERSION}*"
# <mirror root>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/<binary>: Terraform's
# unpacked mirror layout (https://developer.hashicorp.com/terraform/cli/config/config-file
# "filesystem_mirror").
PROVIDER_IN_MIRROR = f"registry.terraform.io/hashicorp/aws/{AWS_PROVIDER_VERSION}/*/{PROVIDER_BINARY}"

MIRROR_ENV = "TF_PROVIDER_MIRROR"
"""Set it to a mirror root (the directory holding `registry.terraform.io`) to skip the search."""

# Where provider mirrors usually live; each is searched for a mirror root at most
# MAX_DEPTH directories below it.
SEARCH_ROOTS = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt",
    "/usr/local",
    "/srv",
)
# Globs of directory names only, never a walk of every file: on a GitHub runner /opt and
# /usr/local hold the tool cache and the Android SDK (hundreds of thousands of files) and
# no mirror, and the search must answer "none" at once there.
MAX_DEPTH = 3


def has_provider(mirror_root: Path) -> bool:
    """True when `mirror_root` holds the pinned hashicorp/aws binary in the unpacked layout."""
    return any(mirror_root.glob(PROVIDER_IN_MIRROR))


def find_mirror_root(roots: tuple[str, ...] | None = None) -> Path | None:
    """The directory containing `registry.terraform.io/hashicorp/aws/<version>/...` under
    one of `roots` (left out: SEARCH_ROOTS), or None when there is none (then Terraform
    installs the provider from the registry).

    Raises ValueError when TF_PROVIDER_MIRROR names a directory without the provider: a
    mirror asked for by name and not there is a mistake, not a reason to download."""
    explicit = os.environ.get(MIRROR_ENV)
    if explicit:
        root = Path(explicit)
        if not has_provider(root):
            raise ValueError(
                f"{MIRROR_ENV} is {explicit!r}, which holds no {PROVIDER_IN_MIRROR}; set it "
                "to the directory that contains registry.terraform.io, or unset it to search "
                "the usual places and fall back to the registry")
        return root
    for root in SEARCH_ROOTS if roots is None else roots:
        base = Path(root).expanduser()
        if not base.is_dir():
            continue
        for depth in range(MAX_DEPTH + 1):
            pattern = "/".join(["*"] * depth + ["registry.terraform.io"])
            for found in sorted(base.glob(pattern)):
                if has_provider(found.parent):
                    return found.parent
    return None


def cli_config_text(mirror_root: Path | None) -> str:
    """CLI config: the mirror for hashicorp/aws (direct for everything else); without a
    mirror no `provider_installation` block at all, which is Terraform's default (every
    provider from its origin registry)."""
    if mirror_root is None:
        return "# No local provider mirror on this machine: providers come from the registry.\n"
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
    """Environment variables for running terraform in `workdir` with the provider from the
    local mirror, or from the registry where the machine has no mirror.

    Writes `workdir/terraformrc` and returns TF_CLI_CONFIG_FILE pointing at it,
    CHECKPOINT_DISABLE=1 and, with `plugin_cache`, TF_PLUGIN_CACHE_DIR under `workdir`.
    Merge the result into `os.environ` for the subprocess.
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
