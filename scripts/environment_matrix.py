"""`python -m scripts.environment_matrix`: the environments as a GitHub Actions matrix,
`matrix=[{"environment", "account_id", "region"}, ...]` in promotion order, for
$GITHUB_OUTPUT (.github/workflows/drift.yml). Read from environments/, so a new
environment module is checked for drift with no edit of the workflow; standard library
and this repository only (no venv needed)."""

from __future__ import annotations

import json
import sys

from environments import load_environments


def matrix() -> list[dict[str, str]]:
    return [{"environment": s.name, "account_id": s.account_id, "region": s.region}
            for s in load_environments()]


def main() -> int:
    print("matrix=" + json.dumps(matrix(), separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
