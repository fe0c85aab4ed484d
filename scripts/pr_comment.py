"""`python -m scripts.pr_comment`: put a Markdown file on a pull request as one comment that
later runs edit in place (found by a hidden marker), instead of a new comment per push.

Used by ci.yml's cost-diff job with the job's token (`pull-requests: write`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.github_rest import GitHubError, GitHubRest, fit


def marker_line(marker: str) -> str:
    return f"<!-- {marker} -->"


def upsert_comment(github: GitHubRest, number: int, marker: str, text: str) -> tuple[str, int]:
    """Create or update the comment of pull request `number` that starts with `marker`;
    returns ("created" or "updated", comment id)."""
    body = fit(f"{marker_line(marker)}\n{text}", note="The whole text is in the job summary.")
    for comment in github.comments(number):
        if (comment.get("body") or "").startswith(marker_line(marker)):
            github.update_comment(comment["id"], body)
            return "updated", comment["id"]
    return "created", github.comment(number, body)["id"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.pr_comment", description=__doc__)
    parser.add_argument("--pull-request", type=int, required=True, help="the PR's number")
    parser.add_argument("--marker", required=True,
                        help="names the comment, e.g. cost-diff (one comment per marker)")
    parser.add_argument("--body", type=Path, required=True, help="Markdown file to post")
    args = parser.parse_args(argv)
    try:
        action, comment_id = upsert_comment(GitHubRest.from_environment(), args.pull_request,
                                            args.marker, args.body.read_text())
    except (OSError, GitHubError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.marker} comment {action}: {comment_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
