"""The generated Terraform CLI config: the local provider mirror where the machine has one,
the registry where it has none (a GitHub runner), and a config Terraform itself accepts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from local_deploy import terraform_cli
from local_deploy.terraform_cli import (
    AWS_PROVIDER_VERSION,
    MIRROR_ENV,
    cli_config_env,
    cli_config_text,
    find_mirror_root,
)


def plant_provider(root: Path, version: str = AWS_PROVIDER_VERSION) -> Path:
    """An unpacked mirror of hashicorp/aws `version` under `root`; returns `root`."""
    platform = root / "registry.terraform.io" / "hashicorp" / "aws" / version / "linux_amd64"
    platform.mkdir(parents=True)
    (platform / f"terraform-provider-aws_v{version}_x5").write_bytes(b"")
    return root


@pytest.fixture
def no_explicit_mirror(monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)


def test_finds_a_mirror_a_few_directories_below_a_search_root(tmp_path, no_explicit_mirror):
    mirror = plant_provider(tmp_path / "opt" / "tools" / "tf-plugins")
    (tmp_path / "opt" / "other" / "deep").mkdir(parents=True)
    assert find_mirror_root((str(tmp_path / "missing"), str(tmp_path / "opt"))) == mirror


def test_a_mirror_of_another_provider_version_is_no_mirror(tmp_path, no_explicit_mirror):
    plant_provider(tmp_path / "opt" / "tf-plugins", version="5.99.0")
    assert find_mirror_root((str(tmp_path / "opt"),)) is None


def test_without_a_mirror_terraform_uses_the_registry(tmp_path, monkeypatch, no_explicit_mirror):
    monkeypatch.setattr(terraform_cli, "SEARCH_ROOTS", (str(tmp_path / "empty"),))
    env = cli_config_env(tmp_path / "cli")
    config = Path(env["TF_CLI_CONFIG_FILE"]).read_text()
    # No provider_installation block: Terraform's default, every provider from its registry.
    assert "provider_installation" not in config
    assert "filesystem_mirror" not in config
    assert "TF_PLUGIN_CACHE_DIR" not in env
    assert "TF_PLUGIN_CACHE_DIR" in cli_config_env(tmp_path / "cached", plugin_cache=True)


def test_with_a_mirror_only_hashicorp_aws_comes_from_it(tmp_path, monkeypatch,
                                                       no_explicit_mirror):
    mirror = plant_provider(tmp_path / "plugins")
    monkeypatch.setattr(terraform_cli, "SEARCH_ROOTS", (str(tmp_path),))
    config = Path(cli_config_env(tmp_path / "cli")["TF_CLI_CONFIG_FILE"]).read_text()
    assert f'path    = "{mirror}"' in config
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in config
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in config


def test_an_explicit_mirror_without_the_provider_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path))
    with pytest.raises(ValueError, match=rf"{MIRROR_ENV} is '{tmp_path}', which holds no "):
        find_mirror_root()
    plant_provider(tmp_path)
    assert find_mirror_root() == tmp_path


@pytest.mark.parametrize("mirror", [None, "mirror"])
def test_terraform_reads_the_config_without_complaint(tmp_path, mirror):
    config = tmp_path / "terraformrc"
    root = plant_provider(tmp_path / "mirror") if mirror else None
    config.write_text(cli_config_text(root))
    result = subprocess.run(
        ["terraform", "version"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "TF_CLI_CONFIG_FILE": str(config), "CHECKPOINT_DISABLE": "1"})
    assert result.returncode == 0, result.stderr
    assert "problems with the CLI configuration" not in result.stdout + result.stderr
