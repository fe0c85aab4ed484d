"""The few GitHub REST calls the workflows make (the drift issue, the cost-diff comment),
over the standard library, with the job's GITHUB_TOKEN.

Endpoints, parameters and fields as documented in https://docs.github.com/en/rest/issues/issues
("List repository issues", "Create an issue", "Update an issue") and
https://docs.github.com/en/rest/issues/comments ("List issue comments", "Create an issue
comment", "Update an issue comment"); a pull request is an issue there, so its comments go
through the same endpoints.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
"""The largest `per_page` the list endpoints accept."""
BODY_LIMIT = 65536
"""GitHub refuses an issue or comment body longer than this many characters (422)."""


class GitHubError(RuntimeError):
    """A call GitHub answered with an error status, or did not answer."""


class GitHubRest:
    """Calls to one repository's REST API with one token."""

    def __init__(self, token: str, repository: str, api_url: str = "https://api.github.com"):
        if not token:
            raise GitHubError("no GitHub token: set GH_TOKEN (the job's github.token) in the "
                              "step's env")
        if repository.count("/") != 1:
            raise GitHubError(f"repository is {repository!r}; allowed is 'owner/name'")
        self.token = token
        self.repository = repository
        self.api_url = api_url.rstrip("/")

    @classmethod
    def from_environment(cls) -> GitHubRest:
        """The repository and API of the running workflow (GITHUB_REPOSITORY, GITHUB_API_URL,
        set by the runner) and the token in GH_TOKEN."""
        return cls(os.environ.get("GH_TOKEN", ""), os.environ.get("GITHUB_REPOSITORY", ""),
                   os.environ.get("GITHUB_API_URL", "https://api.github.com"))

    def call(self, method: str, path: str, body: dict | None = None,
             query: dict[str, str | int] | None = None) -> Any:
        """`method` on `/repos/<owner>/<name><path>`; the decoded JSON answer."""
        url = f"{self.api_url}/repos/{self.repository}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(
            url, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Accept": "application/vnd.github+json",
                     "Authorization": f"Bearer {self.token}",
                     "X-GitHub-Api-Version": API_VERSION,
                     "User-Agent": "infrastructure-workflows",
                     **({} if body is None else {"Content-Type": "application/json"})})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise GitHubError(f"{method} {url} answered {error.code}: {detail}") from error
        except urllib.error.URLError as error:
            raise GitHubError(f"{method} {url} failed: {error.reason}") from error
        return json.loads(text) if text else None

    def pages(self, path: str, query: dict[str, str | int] | None = None) -> list[dict]:
        """Every item of a list endpoint, page by page until a short page."""
        items: list[dict] = []
        page = 1
        while True:
            batch = self.call("GET", path, query={**(query or {}), "per_page": PAGE_SIZE,
                                                  "page": page})
            items.extend(batch)
            if len(batch) < PAGE_SIZE:
                return items
            page += 1

    def open_issues(self, label: str) -> list[dict]:
        """Open issues with `label`, pull requests left out (the issues endpoint lists
        both; a pull request has a `pull_request` key)."""
        found = self.pages("/issues", {"labels": label, "state": "open"})
        return [issue for issue in found if "pull_request" not in issue]

    def create_issue(self, title: str, body: str, labels: list[str]) -> dict:
        return self.call("POST", "/issues", {"title": title, "body": body, "labels": labels})

    def update_issue(self, number: int, **fields: str) -> dict:
        """PATCH an issue: `body`, `state` ("open"/"closed"), `state_reason`, ..."""
        return self.call("PATCH", f"/issues/{number}", fields)

    def comments(self, number: int) -> list[dict]:
        return self.pages(f"/issues/{number}/comments")

    def comment(self, number: int, body: str) -> dict:
        return self.call("POST", f"/issues/{number}/comments", {"body": body})

    def update_comment(self, comment_id: int, body: str) -> dict:
        return self.call("PATCH", f"/issues/comments/{comment_id}", {"body": body})


def fit(text: str, limit: int = BODY_LIMIT, note: str = "") -> str:
    """`text` cut to `limit` characters, ending with `note` when it had to be cut."""
    if len(text) <= limit:
        return text
    tail = f"\n\n… cut to fit GitHub's {limit}-character limit. {note}".rstrip() + "\n"
    return text[:limit - len(tail)] + tail
