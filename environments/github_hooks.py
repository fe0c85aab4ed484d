"""The addresses GitHub delivers webhooks from: the `hooks` field of its meta API.

GitHub changes them now and then and asks allowlisters to watch the API, so the
list carries the day it was read; update it (and the date) from
`curl -s https://api.github.com/meta | jq .hooks` when GitHub announces a change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class HookRanges:
    read_on: str
    """ISO date the list was read from `sources`."""
    sources: tuple[str, ...]
    ipv4: tuple[str, ...]
    ipv6: tuple[str, ...]


GITHUB_HOOK_RANGES = HookRanges(
    read_on="2026-12-02",
    sources=(
        # The API itself (field `hooks`) and GitHub's page about it.
        "https://api.github.com/meta",
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/"
        "about-githubs-ip-addresses",
        # The three /28 prefixes GitHub added to `hooks` on 2026-10-29.
        "https://github.blog/changelog/2026-10-29-webhook-ip-ranges-added-to-the-meta-api",
    ),
    ipv4=(
        "192.30.252.0/22",
        "185.199.108.0/22",
        "140.82.112.0/20",
        "143.55.64.0/20",
        "9.234.98.160/28",
        "9.234.98.176/28",
        "9.234.106.48/28",
    ),
    # The ALB is IPv4-only (address type ipv4), so these are recorded, not used.
    ipv6=("2a0a:a440::/29", "2606:50c0::/32"),
)
