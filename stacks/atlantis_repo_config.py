"""What Atlantis is told about this repository, from one place: the settings each
project of the repo-level `atlantis.yaml` carries, the server-side repo config
(deployed in the Atlantis task as ATLANTIS_REPO_CONFIG_JSON) that allows exactly
the restricted keys those projects use, and the roles its workflows run with.

Read from runatlantis/atlantis at v0.47.1 (the image we pin): `ValidateRepoCfg` in
server/core/config/valid/global_cfg.go refuses a repo config that sets a
restricted key the server's `allowed_overrides` does not list, and the server
config's JSON form is parsed by server/core/config/raw/global_cfg.go.
"""

from __future__ import annotations

ATLANTIS_VERSION = "v0.47.1"
"""The newest release (2026-08-20) with the fix of runatlantis/atlantis#5791 (PR
#6102, "update PullStatus between execution group runs", first in v0.42.0): before
it, one `atlantis apply` over several execution_order_groups failed every project
whose depends_on was applied in an earlier group of the same command."""
IMAGE = f"ghcr.io/runatlantis/atlantis:{ATLANTIS_VERSION}"

TERRAFORM_VERSION = "v1.11.4"
"""The exact Terraform the tests validate and plan with (stacks accept >= 1.11, < 2).
Atlantis downloads this version, so a PR plan runs the binary CI ran."""

RESTRICTED_KEYS = (
    "workflow", "apply_requirements", "plan_requirements", "import_requirements",
    "delete_source_branch_on_merge", "repo_locking", "repo_locks", "custom_policy_check",
    "silence_pr_comments",
)
"""Project keys a repo config may set only when the server allows them, in the
order `ValidateRepoCfg` checks them (global_cfg.go at v0.47.1)."""

CHECKOUT_STRATEGY = "merge"
"""Atlantis plans the PR merged into the base branch, so the plan is what `main`
will hold, and `undiverged` compares that merge with the current base branch (in
the default `branch` mode `HasDiverged` is always false: server/events/working_dir.go)."""

APPLY_REQUIREMENTS = ("approved", "mergeable", "undiverged")
"""Server-side, so a PR cannot loosen them by editing atlantis.yaml:
approved: GitHub shows an approving review; mergeable: GitHub would merge the PR
now (branch protection: required reviews and checks pass); undiverged: the base
branch has not moved since the plan's merge (with the merge checkout strategy)."""

OUTPUT_ROOT = "cdktf.out"
"""Where the synthesized environments live in the repository: a project's `dir` is
`cdktf.out/<environment>/stacks/<stack>` (synth/atlantis_config.py writes them)."""

ENVIRONMENT_OF_PROJECT = 'printf "%s" "$REPO_REL_DIR" | cut -d/ -f2'
"""Shell that prints the environment of the project being run, from the project
dir Atlantis passes as REPO_REL_DIR (run_step_runner.go at v0.47.1 sets it for `run`
and `env` steps): the second segment of `cdktf.out/<environment>/stacks/<stack>`."""

ROLE_KINDS = ("plan", "apply")


def profile_name(environment: str, kind: str) -> str:
    """The AWS profile a workflow selects to `kind` (plan or apply) a project of
    `environment`: `<environment>-atlantis-<kind>`."""
    return f"{environment}-atlantis-{kind}"


def cluster_name(env: str) -> str:
    """The reference's runbook names the cluster `atlantis-prod` (NAM001 exception)."""
    return f"atlantis-{env}"


def service_name(env: str) -> str:
    """The Atlantis ECS service (the rotation Lambda restarts it; secrets stack)."""
    return f"{env}-atlantis"


def task_role_name(env: str) -> str:
    """The Atlantis task role (atlantis stack): the only principal the plan and
    apply roles (bootstrap stack) trust."""
    return f"{env}-atlantis-task"


def execution_role_name(env: str) -> str:
    """The role ECS starts the Atlantis task with (atlantis stack): it injects the
    Atlantis secrets, so the secrets stack's resource policies name it."""
    return f"{env}-atlantis-execution"


def plan_role_name(env: str) -> str:
    return f"{env}-atlantis-plan"


def apply_role_name(env: str) -> str:
    return f"{env}-atlantis-apply"


def aws_profiles(role_arns: dict[str, dict[str, str]]) -> str:
    """The AWS config the workflows select from with AWS_PROFILE: for every
    environment the server plans (`role_arns`: environment -> kind -> role ARN),
    one profile per role, each assuming its role from the task's own credentials
    (the ECS container endpoint)."""
    lines = []
    for environment, arns in sorted(role_arns.items()):
        for kind in ROLE_KINDS:
            profile = profile_name(environment, kind)
            lines += [f"[profile {profile}]", f"role_arn = {arns[kind]}",
                      "credential_source = EcsContainer", f"role_session_name = atlantis-{kind}"]
    return "\n".join(lines) + "\n"


def _write_profiles(role_arns: dict[str, dict[str, str]]) -> dict:
    # Written by every stage (parallel projects write the same bytes; the rename
    # is atomic) into the data directory's HOME, where the SDKs look.
    text = aws_profiles(role_arns)
    quoted = " ".join(f"'{line}'" for line in text.splitlines())
    command = ('mkdir -p "$HOME/.aws" && printf \'%s\\n\' ' + quoted
               + ' > "$HOME/.aws/config.$$" && mv "$HOME/.aws/config.$$" "$HOME/.aws/config"')
    return {"run": {"command": command, "output": "hide"}}


def _select_profile(kind: str) -> dict:
    """An `env` step whose command prints the profile for the project's own
    environment (env_step_runner.go at v0.47.1: without `value`, the command's
    output, its trailing newline trimmed, is the value). The environment comes
    from the project's directory, not from anything the PR's atlantis.yaml can
    name: a project of cdktf.out/staging/ runs as staging's roles, whatever it is
    called, and a directory of no known environment selects no profile and fails."""
    return {"env": {"name": "AWS_PROFILE",
                    "command": f'printf "%s-atlantis-{kind}" "$({ENVIRONMENT_OF_PROJECT})"'}}


STACK_WORKFLOW = "stack"


def project_settings(stack: str) -> dict[str, str]:
    """Keys the atlantis.yaml project of `stack` sets beyond dir, order and autoplan:
    none today. Requirements and the workflow are server-side, so a PR cannot
    loosen them; a key added here that is restricted is allowed server-side by
    `restricted_keys_used`, and nothing else is."""
    return {}


def restricted_keys_used(stacks: tuple[str, ...]) -> list[str]:
    """The restricted keys the projects of `stacks` set, sorted."""
    return sorted({key for stack in stacks for key in project_settings(stack)}
                  & set(RESTRICTED_KEYS))


def _env(name: str, value: str) -> dict:
    return {"env": {"name": name, "value": value}}


def server_repo_config(repository: str, stacks: tuple[str, ...], *,
                       role_arns: dict[str, dict[str, str]]) -> dict:
    """The server-side repo config for `github.com/<repository>` (owner/name).

    Plans run as the plan role of the project's environment (reads everything,
    writes only the state lock), applies as its apply role; `role_arns` holds them
    for every environment the server plans (environment -> kind -> ARN). The
    stacks' own JSON names no role, so an engineer plans by hand with their own
    credentials, and each environment's `allowed_account_ids` refuses the roles of
    any other account."""
    profiles = _write_profiles(role_arns)
    plan = {"steps": [profiles, _select_profile("plan"), "init", "plan"]}
    return {
        "repos": [{
            "id": f"github.com/{repository}",
            "apply_requirements": list(APPLY_REQUIREMENTS),
            "import_requirements": list(APPLY_REQUIREMENTS),
            "workflow": STACK_WORKFLOW,
            "allowed_overrides": restricted_keys_used(stacks),
            "allowed_workflows": [STACK_WORKFLOW],
            "allow_custom_workflows": False,
            "delete_source_branch_on_merge": False,
        }],
        "workflows": {
            STACK_WORKFLOW: {
                "plan": plan,
                "apply": {"steps": [profiles, _select_profile("apply"), "apply"]},
            },
        },
    }
