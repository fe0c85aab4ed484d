"""The drift workflow's issue: opened on drift, updated only when the drift changes, closed
when every stack is back in sync; errors leave it alone. Against a fake GitHub over HTTP."""

from __future__ import annotations

import pytest

from scripts import drift_issue
from scripts.drift_issue import LABEL, MARKER, sync_issue
from scripts.github_rest import GitHubError, GitHubRest
from tests.unit.fake_github import REPOSITORY, TOKEN, FakeGitHub

TITLE = "Drift in prod"
REPORT = "| stack | status |\n|---|---|\n| network | drifted |\n| kms | in sync |\n"
RUN = "https://github.com/connectly/infrastructure/actions/runs/1"
LATER_RUN = "https://github.com/connectly/infrastructure/actions/runs/2"


@pytest.fixture
def github():
    with FakeGitHub() as fake:
        yield fake


def client(fake: FakeGitHub) -> GitHubRest:
    return GitHubRest(TOKEN, REPOSITORY, fake.api_url)


def test_drift_opens_one_labelled_issue_with_the_report(github):
    outcome = sync_issue(client(github), 2, REPORT, TITLE, RUN)
    assert outcome.action == "created"
    issue = github.issues[outcome.number]
    assert issue["title"] == TITLE
    assert [label["name"] for label in issue["labels"]] == [LABEL]
    assert issue["body"].startswith(MARKER)
    assert REPORT in issue["body"] and RUN in issue["body"]


def test_the_same_drift_the_next_day_changes_nothing(github):
    sync_issue(client(github), 2, REPORT, TITLE, RUN)
    before = github.writes()
    outcome = sync_issue(client(github), 2, REPORT, TITLE, LATER_RUN)
    assert outcome.action == "unchanged"
    assert github.writes() == before
    assert len(github.issues) == 1


def test_changed_drift_updates_the_body_and_comments(github):
    first = sync_issue(client(github), 2, REPORT, TITLE, RUN)
    more = REPORT + "| rds | drifted |\n"
    outcome = sync_issue(client(github), 2, more, TITLE, LATER_RUN)
    assert (outcome.action, outcome.number) == ("updated", first.number)
    assert "| rds | drifted |" in github.issues[first.number]["body"]
    (comment,) = github.comments[first.number]
    assert LATER_RUN in comment["body"]
    assert len(github.issues) == 1


def test_back_in_sync_closes_the_issue_as_completed(github):
    first = sync_issue(client(github), 2, REPORT, TITLE, RUN)
    outcome = sync_issue(client(github), 0, "", TITLE, LATER_RUN)
    assert outcome == drift_issue.Outcome("closed", first.number)
    issue = github.issues[first.number]
    assert (issue["state"], issue["state_reason"]) == ("closed", "completed")
    assert "back in sync" in github.comments[first.number][-1]["body"]


def test_in_sync_without_an_open_issue_writes_nothing(github):
    assert sync_issue(client(github), 0, "", TITLE, RUN).action == "none"
    assert github.writes() == []


def test_other_items_labelled_drift_are_not_the_checks_issue(github):
    # A pull request and a person's own issue, both labelled drift and titled alike.
    github.add_issue(TITLE, f"{MARKER}\nold", labels=[LABEL], pull_request=True)
    github.add_issue(TITLE, "I saw a drifted tag", labels=[LABEL])
    outcome = sync_issue(client(github), 0, "", TITLE, RUN)
    assert outcome.action == "none"
    assert sync_issue(client(github), 2, REPORT, TITLE, RUN).action == "created"
    assert len(github.issues) == 3


@pytest.mark.parametrize("code", [1, 3])
def test_an_error_of_the_check_leaves_the_issue_alone(github, code):
    sync_issue(client(github), 2, REPORT, TITLE, RUN)
    before = github.writes()
    with pytest.raises(ValueError, match=rf"exit code {code} is an error of the drift check"):
        sync_issue(client(github), code, "", TITLE, LATER_RUN)
    assert github.writes() == before


def test_a_report_too_long_for_github_is_cut_with_a_pointer_to_the_run(github):
    long_report = "| x | drifted |\n" * 10000
    outcome = sync_issue(client(github), 2, long_report, TITLE, RUN)
    body = github.issues[outcome.number]["body"]
    assert len(body) <= 65536
    assert body.rstrip().endswith(f"The whole report is in the run: {RUN}")


def test_a_wrong_token_is_a_sentence_naming_the_call(github):
    with pytest.raises(GitHubError, match=r"GET .*/issues\?.* answered 401: .*Bad credentials"):
        GitHubRest("wrong", REPOSITORY, github.api_url).open_issues(LABEL)


def test_cli_reads_the_workflow_environment(github, tmp_path, monkeypatch, capsys):
    report = tmp_path / "drift-report.md"
    report.write_text(REPORT)
    monkeypatch.setenv("GH_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPOSITORY)
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_RUN_ID", "7")
    args = ["--report", str(report), "--environment", "prod"]
    assert drift_issue.main(["--exit-code", "2", *args]) == 0
    assert capsys.readouterr().out == "drift issue: created #1\n"
    assert github.issues[1]["title"] == TITLE
    assert f"{REPOSITORY}/actions/runs/7" in github.issues[1]["body"]
    assert drift_issue.main(["--exit-code", "1", *args]) == 1
    assert "is an error of the drift check" in capsys.readouterr().err
    report.write_text("")
    assert drift_issue.main(["--exit-code", "2", *args]) == 1
    assert "missing or empty" in capsys.readouterr().err
