"""What GitHub's OIDC token says for a run of the drift workflow, and so the one subject
the role that workflow assumes (bootstrap's `<env>-github-actions`) trusts.

IAM checks a web identity's claims only through condition keys. For GitHub it has `aud`
and `sub`, and since 2026-01 a few of GitHub's own claims (`job_workflow_ref`, `ref`,
`repository`, `workflow`, ...; https://aws.amazon.com/about-aws/whats-new/2026/01/
aws-sts-supports-validation-identity-provider-claims/), but not `event_name`. The default
`sub` (`repo:<owner>/<name>:ref:refs/heads/<branch>`) is the same for every workflow on the
branch and every event that is not a pull request or an environment
(https://docs.github.com/en/actions/reference/security/oidc#example-subject-claims): the CI
workflow's push runs on main would match it too. So the repository customizes its `sub`
(once, `PUT /repos/{owner}/{repo}/actions/oidc/customization/sub` with
`include_claim_keys` = SUB_CLAIM_KEYS, https://docs.github.com/en/rest/actions/oidc; the
README's "CI workflows" has the call), and the trust matches the whole customized subject:
repository, branch, workflow file and event in one StringEquals, per the documented format
"repo:ORG-NAME/REPO-NAME:<context>:job_workflow_ref:<path>" with further keys appended as
`<key>:<value>` (https://docs.github.com/en/actions/reference/security/oidc
#customizing-the-subject-claims-for-an-organization-or-repository). A run of any other
workflow, branch or event gets another subject and is refused; so is every run while the
customization is missing (fail closed)."""

from __future__ import annotations

OIDC_HOST = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
DRIFT_WORKFLOW = ".github/workflows/drift.yml"
DRIFT_EVENTS = ("schedule", "workflow_dispatch")
"""The events drift.yml runs on: its daily schedule and a run started by hand."""
SUB_CLAIM_KEYS = ("repo", "context", "job_workflow_ref", "event_name")
"""`include_claim_keys` of the repository's subject customization, in this order."""


def subject_repo(repository: str, immutable_ids: tuple[int, int] | None) -> str:
    """The `repo` segment of a subject: `owner/name`, or `owner@<id>/name@<id>` for a
    repository with immutable subject claims (created after 15 July 2026, or opted in:
    https://docs.github.com/en/actions/reference/security/oidc#immutable-subject-claims)."""
    if immutable_ids is None:
        return repository
    owner, name = repository.split("/")
    owner_id, repository_id = immutable_ids
    return f"{owner}@{owner_id}/{name}@{repository_id}"


def drift_subjects(repository: str, branch: str,
                   immutable_ids: tuple[int, int] | None = None) -> tuple[str, ...]:
    """The customized `sub` of a drift.yml run on `branch`, one per event in DRIFT_EVENTS."""
    ref = f"refs/heads/{branch}"
    workflow = f"{repository}/{DRIFT_WORKFLOW}@{ref}"
    return tuple(
        f"repo:{subject_repo(repository, immutable_ids)}:ref:{ref}"
        f":job_workflow_ref:{workflow}:event_name:{event}"
        for event in DRIFT_EVENTS)
