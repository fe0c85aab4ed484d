"""The cost-diff comment: one comment per pull request, edited in place by later runs, found
past the first page of comments. Against a fake GitHub over HTTP."""

from __future__ import annotations

import pytest

from scripts import pr_comment
from scripts.github_rest import GitHubRest
from scripts.pr_comment import upsert_comment
from tests.unit.fake_github import REPOSITORY, TOKEN, FakeGitHub


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        yield fake


def test_first_run_creates_the_comment_later_runs_edit_it(github):
    pr = github.add_issue("Raise the RDS instance class", pull_request=True)["number"]
    client = GitHubRest(TOKEN, REPOSITORY, github.api_url)
    action, first = upsert_comment(client, pr, "cost-diff", "+$12.00/month")
    assert action == "created"
    action, again = upsert_comment(client, pr, "cost-diff", "+$30.00/month")
    assert (action, again) == ("updated", first)
    (comment,) = github.comments[pr]
    assert comment["body"] == "<!-- cost-diff -->\n+$30.00/month"


def test_the_comment_is_found_beyond_the_first_page(github):
    pr = github.add_issue("Busy pull request", pull_request=True)["number"]
    for i in range(150):
        github.add_comment(pr, f"review remark {i}")
    github.comments[pr].insert(120, {"id": 1, "body": "<!-- cost-diff -->\nold"})
    github.add_comment(pr, "<!-- other-report -->\nnot ours")
    action, comment_id = upsert_comment(GitHubRest(TOKEN, REPOSITORY, github.api_url), pr,
                                        "cost-diff", "new")
    assert (action, comment_id) == ("updated", 1)
    assert len(github.comments[pr]) == 152


def test_cli(github, tmp_path, monkeypatch, capsys):
    pr = github.add_issue("Change", pull_request=True)["number"]
    body = tmp_path / "cost-diff.md"
    body.write_text("| stack | before | after |\n")
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    args = ["--pull-request", str(pr), "--marker", "cost-diff", "--body", str(body)]
    assert pr_comment.main(args) == 0
    assert "cost-diff comment created" in capsys.readouterr().out
    monkeypatch.setenv("GH_TOKEN", "")
    assert pr_comment.main(args) == 1
    assert "no GitHub token" in capsys.readouterr().err
