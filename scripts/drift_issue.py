"""`python -m scripts.drift_issue`: keep one open issue labelled `drift` in step with the
drift check's result (.github/workflows/drift.yml, job `issue`).

- drift (the drift module exited 2): open the issue with the report, or, when one is open,
  put the new report in its body and comment that it changed (nothing when it did not, so
  a drift left alone is not a daily notification);
- in sync (exit 0): comment and close the open issue as completed (nothing when none is);
- any other exit code is an error of the check, not news about drift: refused here, and the
  workflow fails instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.github_rest import GitHubError, GitHubRest, fit

IN_SYNC, DRIFT = 0, 2
LABEL = "drift"
MARKER = "<!-- drift-check -->"
"""First line of the body: tells the check's own issue from one a person labelled."""


@dataclass(frozen=True)
class Outcome:
    action: str
    """created, updated, unchanged, closed or none."""
    number: int | None = None


def issue_body(report: str, run_url: str) -> str:
    head = (f"{MARKER}\nThe drift check found resources that differ from their Terraform "
            f"state ([run]({run_url})). Resolve each drifted stack as the README's "
            "\"Drift\" section says; the issue closes itself once every stack is in sync.\n\n")
    return head + fit(report, limit=60000, note=f"The whole report is in the run: {run_url}")


def same_report(old: str, new: str) -> bool:
    """Bodies equal but for the run link, which changes every day."""
    return old.split("\n", 2)[2:] == new.split("\n", 2)[2:]


def sync_issue(github: GitHubRest, exit_code: int, report: str, title: str,
               run_url: str) -> Outcome:
    """Open, update or close the drift issue titled `title` for a check that exited
    `exit_code` with Markdown `report`."""
    if exit_code not in (IN_SYNC, DRIFT):
        raise ValueError(f"exit code {exit_code} is an error of the drift check, not a "
                         f"result: allowed are {IN_SYNC} (in sync) and {DRIFT} (drift); the "
                         "issue is left as it is")
    mine = [i for i in github.open_issues(LABEL)
            if i["title"] == title and (i.get("body") or "").startswith(MARKER)]
    if exit_code == IN_SYNC:
        for issue in mine:
            github.comment(issue["number"], f"Every stack is back in sync ([run]({run_url})).")
            github.update_issue(issue["number"], state="closed", state_reason="completed")
        return Outcome("closed", mine[0]["number"]) if mine else Outcome("none")
    body = issue_body(report, run_url)
    if not mine:
        created = github.create_issue(title, body, [LABEL])
        return Outcome("created", created["number"])
    issue = mine[0]
    if same_report(issue.get("body") or "", body):
        return Outcome("unchanged", issue["number"])
    github.update_issue(issue["number"], body=body)
    github.comment(issue["number"], f"The drift changed ([run]({run_url})); the description "
                                    "holds the new report.")
    return Outcome("updated", issue["number"])


def run_url() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return (f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/"
            f"{os.environ.get('GITHUB_RUN_ID', '')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.drift_issue", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exit-code", type=int, required=True,
                        help="the drift module's exit code: 0 in sync, 2 drift")
    parser.add_argument("--report", type=Path, required=True,
                        help="the drift module's Markdown report")
    parser.add_argument("--environment", required=True, help="named in the issue's title")
    args = parser.parse_args(argv)
    report = args.report.read_text() if args.report.exists() else ""
    if args.exit_code == DRIFT and not report.strip():
        print(f"{args.report} is missing or empty: the drift module reported drift but no "
              "report to put in the issue", file=sys.stderr)
        return 1
    try:
        outcome = sync_issue(GitHubRest.from_environment(), args.exit_code, report,
                             f"Drift in {args.environment}", run_url())
    except (ValueError, GitHubError) as error:
        print(error, file=sys.stderr)
        return 1
    where = f" #{outcome.number}" if outcome.number else ""
    print(f"drift issue: {outcome.action}{where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
