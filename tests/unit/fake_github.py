"""An in-memory GitHub on 127.0.0.1 that answers the issue and comment endpoints the
workflows' scripts call, as https://docs.github.com/en/rest/issues/issues and
https://docs.github.com/en/rest/issues/comments describe them: the issues list holds pull
requests too (with a `pull_request` key), `labels` is a comma-separated list an item must
all carry, lists page with `per_page` (at most 100) and `page`, bodies over 65536
characters are refused with 422, and a call without the token gets 401."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "test-token"
REPOSITORY = "connectly/infrastructure"
BODY_LIMIT = 65536


class FakeGitHub:
    """Issues (pull requests among them) and their comments, and the calls made."""

    def __init__(self) -> None:
        self.issues: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.calls: list[tuple[str, str]] = []
        self._next_comment = 1000
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def api_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_issue(self, title: str, body: str = "", labels=(), state="open",
                  pull_request=False) -> dict:
        number = len(self.issues) + 1
        issue = {"number": number, "title": title, "body": body, "state": state,
                 "state_reason": None, "labels": [{"name": name} for name in labels]}
        if pull_request:
            issue["pull_request"] = {"url": f"https://example.invalid/pulls/{number}"}
        self.issues[number] = issue
        self.comments[number] = []
        return issue

    def add_comment(self, number: int, body: str) -> dict:
        self._next_comment += 1
        comment = {"id": self._next_comment, "body": body}
        self.comments[number].append(comment)
        return comment

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call[0] != "GET"]

    # --- the HTTP side ---------------------------------------------------------------
    def _route(self, method: str, path: str, query: dict, body: dict | None):
        prefix = f"/repos/{REPOSITORY}"
        if not path.startswith(prefix):
            return 404, {"message": "Not Found"}
        path = path[len(prefix):]
        for text in (body or {}).get("body"), (body or {}).get("title"):
            if isinstance(text, str) and len(text) > BODY_LIMIT:
                return 422, {"message": "Validation Failed: body is too long"}
        if method == "GET" and path == "/issues":
            wanted = [w for w in query.get("labels", [""])[0].split(",") if w]
            state = query.get("state", ["open"])[0]
            found = [i for i in self.issues.values()
                     if (state == "all" or i["state"] == state)
                     and all(w in {label["name"] for label in i["labels"]} for w in wanted)]
            return 200, self._page(found, query)
        if method == "POST" and path == "/issues":
            if not body or not body.get("title"):
                return 422, {"message": "Validation Failed: title is missing"}
            issue = self.add_issue(body["title"], body.get("body") or "", body.get("labels", []))
            return 201, issue
        if m := re.fullmatch(r"/issues/(\d+)", path):
            issue = self.issues.get(int(m[1]))
            if issue is None or method != "PATCH":
                return 404, {"message": "Not Found"}
            issue.update({k: v for k, v in (body or {}).items()
                          if k in ("title", "body", "state", "state_reason")})
            return 200, issue
        if m := re.fullmatch(r"/issues/(\d+)/comments", path):
            number = int(m[1])
            if number not in self.issues:
                return 404, {"message": "Not Found"}
            if method == "GET":
                return 200, self._page(self.comments[number], query)
            if method == "POST" and body and body.get("body"):
                return 201, self.add_comment(number, body["body"])
            return 422, {"message": "Validation Failed"}
        if (m := re.fullmatch(r"/issues/comments/(\d+)", path)) and method == "PATCH":
            for comments in self.comments.values():
                for comment in comments:
                    if comment["id"] == int(m[1]):
                        comment["body"] = body["body"]
                        return 200, comment
        return 404, {"message": "Not Found"}

    @staticmethod
    def _page(items: list, query: dict) -> list:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = int(query.get("page", ["1"])[0])
        return items[(page - 1) * per_page:page * per_page]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                url = urlsplit(self.path)
                fake.calls.append((self.command, url.path))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    status, answer = 401, {"message": "Bad credentials"}
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    body = json.loads(self.rfile.read(length)) if length else None
                    status, answer = fake._route(self.command, url.path, parse_qs(url.query),
                                                 body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve

            def log_message(self, *args):
                pass

        return Handler
