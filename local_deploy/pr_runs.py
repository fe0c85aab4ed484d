"""The pull requests the local deploy plays through Atlantis' flow (local_deploy/pr_flow.py) on
moto, with the credentials its workflows select:

1. the environment's first PR: nothing downstream can be planned before its producers
   exist, so it goes the way operators take such a PR, one execution order group at a
   time (`atlantis plan -p <stack>`, then `atlantis apply -p <stack>`);
2. a PR that changes every stack: autoplanned from its changed files, then one
   `atlantis apply` applies all 11;
3. the second run of that PR (a new push): every stack plans with no changes;
4. a PR that touches only monitoring: only monitoring is planned.

The Atlantis server's config is the one the atlantis stack deploys: read from the
synthesized task definition, its `${data.aws_ssm_parameter...}` references resolved
from SSM on moto, as ECS and Terraform would. The task's own credentials come from a
stand-in of the ECS container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI
on loopback), serving an STS session of a stand-in task role; the workflows' AWS
profiles assume the plan and apply roles from it through STS on moto.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from local_deploy.local_overrides import STAND_IN_TASK_ROLE
from local_deploy.pr_flow import Project, ProjectResult, PullRequestRun

SSM_REFERENCE = re.compile(r"\$\{data\.aws_ssm_parameter\.([A-Za-z0-9_-]+)\.insecure_value\}")
PARTITION_REFERENCE = re.compile(r"\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}")


@dataclass
class PullRequestRecord:
    """One command of one PR, for the summary."""

    pr: str
    command: str
    results: list[dict] = field(default_factory=list)


def atlantis_task_environment(source: Path) -> dict[str, str]:
    """The Atlantis container's environment in the synthesized atlantis stack."""
    doc = json.loads((source / "stacks" / "atlantis" / "cdk.tf.json").read_text())
    (task,) = doc["resource"]["aws_ecs_task_definition"].values()
    containers = {c["name"]: c for c in json.loads(task["container_definitions"])}
    return {e["name"]: e["value"] for e in containers["atlantis"]["environment"]}


def resolve_ssm_references(text: str, source: Path, read_parameter,
                           partition: str = "aws") -> str:
    """`text` with each `${data.aws_ssm_parameter.<n>.insecure_value}` of the atlantis
    stack replaced by the parameter's value (`read_parameter(name)`), and each
    `${data.aws_partition.<n>.partition}` by `partition`, as Terraform renders them."""
    doc = json.loads((source / "stacks" / "atlantis" / "cdk.tf.json").read_text())
    names = {n: body["name"] for n, body in doc["data"]["aws_ssm_parameter"].items()}
    text = PARTITION_REFERENCE.sub(partition, text)
    return SSM_REFERENCE.sub(lambda m: read_parameter(names[m.group(1)]), text)


class ContainerCredentials:
    """A loopback stand-in of the ECS task credentials endpoint: each request gets a
    fresh STS session of the stand-in task role (the shape the SDKs read). The role may
    do what the atlantis stack lets its task role do with AWS credentials: assume the
    plan and apply roles (stacks/atlantis.py, AssumePlanAndApplyRoles)."""

    def __init__(self, aws, region: str, assumable: tuple[str, ...],
                 credentials: dict[str, str] | None = None):
        # The task's account: the administrator's (`credentials`) of the environment
        # that runs the server.
        iam = aws.client("iam", region, credentials)
        sts = aws.client("sts", region, credentials)
        # ECS assumes a task role for the task; here the harness's administrator does.
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": sts.get_caller_identity()["Arn"]}}]}
        role = iam.create_role(RoleName=STAND_IN_TASK_ROLE,
                               AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(RoleName=STAND_IN_TASK_ROLE, PolicyName="terraform-roles",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                                "Sid": "AssumePlanAndApplyRoles", "Effect": "Allow",
                                "Action": "sts:AssumeRole", "Resource": list(assumable)}]}))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                session = sts.assume_role(RoleArn=role["Arn"],
                                          RoleSessionName="ecs-task")["Credentials"]
                body = json.dumps({
                    "AccessKeyId": session["AccessKeyId"],
                    "SecretAccessKey": session["SecretAccessKey"],
                    "Token": session["SessionToken"],
                    "Expiration": session["Expiration"].astimezone(UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"),
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2/credentials"

    def __enter__(self) -> ContainerCredentials:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def task_env(admin_env: dict[str, str], home: Path, credentials_url: str) -> dict[str, str]:
    """The Atlantis task's environment: no static keys, the container endpoint, and a
    HOME where the workflows write their AWS profiles."""
    env = {k: v for k, v in admin_env.items()
           if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                        "AWS_CONFIG_FILE", "AWS_PROFILE")}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), AWS_CONTAINER_CREDENTIALS_FULL_URI=credentials_url,
               AWS_EC2_METADATA_DISABLED="true")
    return env


def new_pull_request(repo_cfg_path: Path, server_cfg: dict, repo_id: str, out: Path,
                     env: dict[str, str], logs: Path) -> PullRequestRun:
    repo_cfg = yaml.safe_load(repo_cfg_path.read_text())

    def project_dir(project: Project) -> Path:
        # atlantis.yaml names dirs from the repository root (cdktf.out/stacks/<stack>).
        return out / Path(project.dir).relative_to("cdktf.out")

    return PullRequestRun(repo_cfg=repo_cfg, server_cfg=server_cfg, repo_id=repo_id,
                          project_dir=project_dir, env=env, logs=logs)


def record(records: list[PullRequestRecord], pr: str, command: str,
           results: list[ProjectResult]) -> list[ProjectResult]:
    records.append(PullRequestRecord(pr, command, [asdict(r) for r in results]))
    return results


def failures(results: list[ProjectResult]) -> list[str]:
    return [f"{r.project}: {r.command} {r.status}: {r.summary}" for r in results
            if r.status in ("error", "skipped")]
