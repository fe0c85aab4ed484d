"""SEC004: no literal secrets anywhere in the synthesized JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from policies.model import Result, Rule, StackView, from_problems, is_token

# Values that are secrets whatever attribute holds them.
PATTERNS = {
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "an AWS secret access key assignment": re.compile(
        r"aws_secret_access_key\s*[=:]\s*[A-Za-z0-9/+]{40}", re.IGNORECASE),
}

# Attributes whose literal string value is a secret (provider and resource arguments).
SECRET_ATTRIBUTES = frozenset({
    "password", "master_password", "secret_string", "secret_binary", "token", "auth_token",
    "secret_key", "access_key", "private_key", "api_key", "client_secret", "webhook_secret",
    "github_token", "oauth_token", "personal_access_token", "secret",
})
# Environment-variable style keys whose literal value is a secret.
SECRET_KEY = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|PRIVATE_KEY|API_KEY)", re.IGNORECASE)


def _address(path: tuple[str, ...]) -> str:
    """The Terraform address a JSON path belongs to (resource.type.name -> type.name)."""
    if len(path) >= 3 and path[0] == "resource":
        return f"{path[1]}.{path[2]}"
    if len(path) >= 3 and path[0] == "data":
        return f"data.{path[1]}.{path[2]}"
    if len(path) >= 2 and path[0] in ("output", "variable", "locals"):
        return f"{path[0]}.{path[1]}"
    if path and path[0] == "provider":
        return "provider." + ".".join(path[1:2])
    return path[0] if path else "<root>"


def _walk(node: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str, object]]:
    """(path, key, value) for every scalar, skipping `//` comment blocks."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "//":
                continue
            if isinstance(value, (dict, list)):
                yield from _walk(value, (*path, key))
            else:
                yield (*path, key), key, value
    elif isinstance(node, list):
        for i, value in enumerate(node):
            key = path[-1] if path else ""
            if isinstance(value, (dict, list)):
                yield from _walk(value, (*path, str(i)))
            else:
                yield (*path, str(i)), key, value


def findings(doc: dict) -> dict[str, list[str]]:
    """Address -> problems (the secret value itself is never repeated)."""
    out: dict[str, list[str]] = {}
    for path, key, value in _walk(doc, ()):
        problems = out.setdefault(_address(path), [])
        if not isinstance(value, str) or not value or is_token(value):
            continue
        where = ".".join(path[3:] if path[0] in ("resource", "data") else path[2:])
        for label, pattern in PATTERNS.items():
            if pattern.search(value):
                problems.append(f"{where or key} contains {label}")
        if key in SECRET_ATTRIBUTES or (path[-2:-1] == ("variables",) and SECRET_KEY.search(key)):
            problems.append(f"{where or key} is a literal value, not a reference")
    return out


class LiteralSecrets(Rule):
    id = "SEC004"
    family = "security"
    title = "no literal secrets in the synthesized JSON"
    rationale = ("cdktf.out is committed and read by Atlantis; anything literal in it is in git "
                 "history for good. Secrets live in Secrets Manager and are referenced.")
    fix = ("remove the value, rotate the leaked secret, and reference it through Secrets "
           "Manager (manage_master_user_password for RDS, secrets in ECS task definitions)")

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for address, problems in sorted(findings(stack.doc).items()):
            yield address, from_problems(problems)


RULE = LiteralSecrets()
