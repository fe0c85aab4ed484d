"""The one error type for bad input: a list of sentences, reported together."""

from __future__ import annotations


class ConfigError(ValueError):
    """Bad settings or construct props; each problem is one full sentence that
    names where (settings field or construct path), the bad value and what is
    allowed."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        count = len(self.problems)
        head = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(f"{head}:\n" + "\n".join(f"  - {p}" for p in self.problems))


class Problems:
    """Collects problems so that all of them are reported at once."""

    def __init__(self, where: str):
        self.where = where
        self.items: list[str] = []

    def add(self, field: str, value: object, allowed: str) -> None:
        self.items.append(f"{self.where}: {field} is {value!r}; {allowed}.")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)
