"""How the Atlantis server judges our repo config against its server-side config:
a port of `ValidateRepoCfg` and `IDMatches` (server/core/config/valid/global_cfg.go
at runatlantis/atlantis v0.47.1), with Atlantis' own error messages.

The server config starts with Atlantis' default repo (`/.*/`, nothing allowed)
and then the repos of ATLANTIS_REPO_CONFIG_JSON (`ToValid` appends them), and for
each setting the last matching repo that sets it wins.
"""

from __future__ import annotations

import re

from stacks.atlantis_repo_config import RESTRICTED_KEYS

DEFAULT_REPO = {"id": "/.*/", "allowed_overrides": [], "allowed_workflows": None,
                "allow_custom_workflows": False}


def id_matches(repo: dict, repo_id: str) -> bool:
    """`id` is an exact repo id, or a regex between slashes."""
    pattern = repo["id"]
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        return re.search(pattern[1:-1], repo_id) is not None
    return pattern == repo_id


def _setting(server_cfg: dict, repo_id: str, key: str, default: object) -> object:
    value = default
    for repo in [DEFAULT_REPO, *server_cfg.get("repos", [])]:
        if id_matches(repo, repo_id) and repo.get(key) is not None:
            value = repo[key]
    return value


def validate_repo_cfg(repo_cfg: dict, server_cfg: dict, repo_id: str) -> str | None:
    """Atlantis' error for `repo_cfg` (a parsed atlantis.yaml), or None when the
    server accepts it. Like Atlantis, reports the first problem only."""
    allowed = _setting(server_cfg, repo_id, "allowed_overrides", [])
    projects = repo_cfg.get("projects") or []
    for project in projects:
        for key in RESTRICTED_KEYS:
            if key in project and key not in allowed:
                return (f"repo config not allowed to set '{key}' key: server-side config "
                        f"needs 'allowed_overrides: [{key}]'")
    custom = _setting(server_cfg, repo_id, "allow_custom_workflows", False)
    if repo_cfg.get("workflows") and not custom:
        return ("repo config not allowed to define custom workflows: server-side config "
                "needs 'allow_custom_workflows: true'")
    defined = {**(server_cfg.get("workflows") or {}), **(repo_cfg.get("workflows") or {})}
    for project in projects:
        name = project.get("workflow")
        if name is not None and name not in defined:
            return f'workflow "{name}" is not defined anywhere'
    allowed_workflows = _setting(server_cfg, repo_id, "allowed_workflows", None) or []
    for project in projects:
        name = project.get("workflow")
        if name is not None and allowed_workflows:
            if custom and name in (repo_cfg.get("workflows") or {}):
                break
            if name not in allowed_workflows:
                return f"workflow '{name}' is not allowed for this repo"
    return None
