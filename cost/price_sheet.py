"""The price sheets in cost/prices/: one JSON file per Region of on-demand unit prices,
each price with its source and the date it was read, and free.json, the resource
types that carry no charge and why. Loading checks every entry and fails with
sentences that name the file and the entry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from constructs_lib.errors import ConfigError

PRICES = Path(__file__).resolve().parent / "prices"
FREE_TYPES_FILE = PRICES / "free.json"


@dataclass(frozen=True)
class Source:
    """Where a figure comes from: AWS's page or price-list file (`url`), the day the
    figure was read from it (`read`), and the copy this sheet took it from (`via`)."""

    id: str
    url: str
    read: date
    via: str


@dataclass(frozen=True)
class Price:
    key: str
    usd: Decimal
    unit: str
    source: Source
    item: str = ""
    """AWS's usage type or the page's line, when the source names one."""
    basis: str = ""
    """Set when the figure is not the Region's own, read straight from AWS: what it is."""
    basis_sources: tuple[Source, ...] = ()
    """Further sources the basis relies on."""


@dataclass(frozen=True)
class Discount:
    key: str
    fraction: Decimal
    source: Source
    about: str


@dataclass(frozen=True)
class PriceSheet:
    region: str
    read: date
    """The day the sheet's figures were read from their sources; the estimate's date."""
    path: Path
    prices: dict[str, Price]
    discounts: dict[str, Discount]
    facts: dict[str, Any]

    def price(self, key: str) -> Price | None:
        return self.prices.get(key)

    def fact(self, key: str) -> Any:
        return self.facts.get(key)


def sheet_path(region: str) -> Path:
    return PRICES / f"{region}.json"


def available_regions() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PRICES.glob("*.json") if p != FREE_TYPES_FILE))


@cache
def load_sheet(region: str) -> PriceSheet:
    """The sheet of `region`; ConfigError (all problems at once) when it is missing or bad."""
    path = sheet_path(region)
    if not path.exists():
        raise ConfigError([
            f"no price sheet for Region {region!r}: {path.relative_to(PRICES.parent.parent)} "
            f"does not exist (sheets exist for {', '.join(available_regions())})."])
    return parse_sheet(json.loads(path.read_text(), parse_float=Decimal), path)


def parse_sheet(doc: dict, path: Path) -> PriceSheet:
    where = f"{path.parent.name}/{path.name}"
    problems: list[str] = []
    region = doc.get("region")
    if region != path.stem:
        problems.append(f"{where}: region is {region!r}; it must be the file's name {path.stem!r}.")
    read = _date(doc.get("read"), f"{where}: read", problems)
    sources = {}
    for sid, body in sorted((doc.get("sources") or {}).items()):
        entry = f"{where}: sources.{sid}"
        url, via = body.get("url"), body.get("via")
        for name, value in (("url", url), ("via", via)):
            if not isinstance(value, str) or len(value) < 10:
                problems.append(f"{entry}.{name} is {value!r}; a source names AWS's page or "
                                "price-list file (url) and the copy it was read through (via).")
        read_on = _date(body.get("read"), f"{entry}.read", problems)
        if read_on and read and read_on > read:
            problems.append(f"{entry}.read is {read_on}; a source cannot be read after the "
                            f"sheet's own date {read}.")
        sources[sid] = Source(id=sid, url=str(url), read=read_on or date.min, via=str(via))
    prices = {}
    for key, body in sorted((doc.get("prices") or {}).items()):
        entry = f"{where}: prices.{key}"
        usd = _decimal(body.get("usd"), f"{entry}.usd", problems)
        source = sources.get(body.get("source"))
        if source is None:
            problems.append(f"{entry}.source is {body.get('source')!r}; allowed are the ids "
                            f"under sources ({', '.join(sorted(sources))}).")
        if not body.get("unit"):
            problems.append(f"{entry}.unit is missing; say what one unit of the price is.")
        extra = [sources.get(sid) for sid in body.get("basis_sources", [])]
        if None in extra or (extra and not body.get("basis")):
            problems.append(f"{entry}.basis_sources is {body.get('basis_sources')!r}; allowed "
                            "are ids under sources, beside a basis that explains them.")
        if usd is not None and source is not None and None not in extra:
            prices[key] = Price(key=key, usd=usd, unit=str(body.get("unit", "")), source=source,
                                item=str(body.get("item") or ""),
                                basis=str(body.get("basis") or ""),
                                basis_sources=tuple(s for s in extra if s is not None))
    discounts = {}
    for key, body in sorted((doc.get("discounts") or {}).items()):
        entry = f"{where}: discounts.{key}"
        fraction = _decimal(body.get("fraction"), f"{entry}.fraction", problems)
        source = sources.get(body.get("source"))
        if fraction is not None and not Decimal(0) < fraction < Decimal(1):
            problems.append(f"{entry}.fraction is {fraction}; allowed is more than 0 and less "
                            "than 1.")
        if source is None:
            problems.append(f"{entry}.source is {body.get('source')!r}; allowed are the ids "
                            "under sources.")
        elif fraction is not None:
            discounts[key] = Discount(key=key, fraction=fraction, source=source,
                                      about=str(body.get("about") or ""))
    facts = {}
    for key, body in sorted((doc.get("facts") or {}).items()):
        if body.get("source") not in sources:
            problems.append(f"{where}: facts.{key}.source is {body.get('source')!r}; allowed "
                            "are the ids under sources.")
        facts[key] = body.get("values")
    unused = sorted(set(sources) - {p.source.id for p in prices.values()}
                    - {b.id for p in prices.values() for b in p.basis_sources}
                    - {d.source.id for d in discounts.values()}
                    - {(doc.get("facts") or {})[k].get("source") for k in facts})
    if unused:
        problems.append(f"{where}: sources {', '.join(unused)} are not used by any price, "
                        "discount or fact; remove them.")
    if problems:
        raise ConfigError(problems)
    return PriceSheet(region=str(region), read=read or date.min, path=path, prices=prices,
                      discounts=discounts, facts=facts)


@cache
def free_types() -> dict[str, str]:
    """Resource type -> why it carries no charge (cost/prices/free.json)."""
    return parse_free_types(json.loads(FREE_TYPES_FILE.read_text()))


def parse_free_types(doc: dict) -> dict[str, str]:
    types = doc.get("types") or {}
    short = sorted(t for t, reason in types.items()
                   if not isinstance(reason, str) or len(reason) < 10)
    if short:
        raise ConfigError([f"prices/free.json: {t} needs a reason of at least 10 characters "
                           "for carrying no charge." for t in short])
    return dict(types)


def _date(value: object, where: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where} is {value!r}; allowed is a date such as '2026-12-07'.")
        return None


def _decimal(value: object, where: str, problems: list[str]) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or number < 0:
        problems.append(f"{where} is {value!r}; allowed is a number of zero or more such as "
                        "\"0.059\" (read as an exact decimal).")
        return None
    return number
