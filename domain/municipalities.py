"""The municipality register: which units of which agencies a municipality relates a case to.

docs/domain.md §9: a case's relations derive from its municipalities through a versioned
register shipped as data, with its date and source. The register says, for each
municipality number in force, its name, its county, the police district that covers it
and the Conflict Council (konfliktråd) office that serves it; `units()` turns that into the
unit of each agency the municipality relates a case to.

The shipped default is `domain/data/municipalities-2024.csv` (Kommuneinndeling 2024); its
header says where each column comes from and which parts are derived. Another file of the
same form can replace it (`infra/register_file.py`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Any

from domain.errors import InvalidInputError
from domain.values import Agency

COLUMNS = ("number", "name", "county", "police_district", "konfliktrad_office")
HEADER_KEYS = ("version", "valid_from", "source")
DEFAULT_FILE = "municipalities-2024.csv"

_NUMBER = re.compile(r"[0-9]{4}")
_COUNTY = re.compile(r"[0-9]{2}")
_CODE = re.compile(r"[a-z][a-z-]{1,39}")  # a police district or office code (domain/need_to_know.py)
_HEADER_LINE = re.compile(r"#\s*(version|valid_from|source)\s*:\s*(.*)")


class UnknownMunicipalityError(InvalidInputError, KeyError):
    """The municipality number is not in the municipality register in force."""

    def __init__(self, number: str, version: str) -> None:
        super().__init__(f"municipality {number!r} is not in the municipality register {version}")
        self.number = number

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Municipality:
    number: str  # kommunenummer, 4 digits
    name: str
    county: str  # fylkesnummer, 2 digits
    police_district: str
    konfliktrad_office: str


@dataclass(frozen=True)
class MunicipalityRegister:
    version: str
    valid_from: date
    source: str
    municipalities: Mapping[str, Municipality]

    def get(self, number: str) -> Municipality | None:
        return self.municipalities.get(number)

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and number in self.municipalities

    def __len__(self) -> int:
        return len(self.municipalities)

    def municipality(self, number: str) -> Municipality:
        """The municipality with this number; `UnknownMunicipalityError` if there is none."""
        found = self.municipalities.get(number)
        if found is None:
            raise UnknownMunicipalityError(number, self.version)
        return found

    def units(self, number: str) -> dict[Agency, str]:
        """The unit of each agency related through this municipality (docs/domain.md §9):
        prosecution and police -> the police district, konfliktrad -> the Conflict Council
        office, municipal_health and child_welfare -> the municipality number, county -> the
        county number. `UnknownMunicipalityError` (a `KeyError`) for an unknown number."""
        m = self.municipality(number)
        return {
            Agency.PROSECUTION: m.police_district,
            Agency.POLICE: m.police_district,
            Agency.KONFLIKTRAD: m.konfliktrad_office,
            Agency.MUNICIPAL_HEALTH: m.number,
            Agency.CHILD_WELFARE: m.number,
            Agency.COUNTY: m.county,
        }

    def describe(self, number: str) -> dict[str, Any]:
        """The municipality as `GET /register/municipalities/{number}` shows it."""
        m = self.municipality(number)
        return {
            "number": m.number,
            "name": m.name,
            "county": m.county,
            "police_district": m.police_district,
            "konfliktrad_office": m.konfliktrad_office,
            "register_version": self.version,
            "source": self.source,
        }

    def describe_all(self, county: str | None = None) -> list[dict[str, Any]]:
        """Every municipality (of `county`, when given), by number."""
        return [
            self.describe(number)
            for number, m in sorted(self.municipalities.items())
            if county is None or m.county == county
        ]

    def counties(self) -> frozenset[str]:
        return frozenset(m.county for m in self.municipalities.values())

    def police_districts(self) -> frozenset[str]:
        return frozenset(m.police_district for m in self.municipalities.values())

    def konfliktrad_offices(self) -> frozenset[str]:
        return frozenset(m.konfliktrad_office for m in self.municipalities.values())


def parse_register(text: str, origin: str) -> MunicipalityRegister:
    """The register in `text`: `#` lines (among them `# version:`, `# valid_from:` and
    `# source:`), then CSV with the columns of `COLUMNS`. A `ValueError` names `origin`, the
    line and what is wrong with it."""
    header: dict[str, str] = {}
    columns: list[str] | None = None
    found: dict[str, Municipality] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        where = f"{origin}, line {lineno}"
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            _header_line(stripped, header, where)
            continue
        cells = [cell.strip() for cell in next(csv.reader([line]))]
        if columns is None:
            columns = _column_row(cells, where)
            continue
        m = _row(cells, columns, where)
        if m.number in found:
            raise ValueError(f"{where}: municipality {m.number} is listed twice")
        found[m.number] = m
    for key in HEADER_KEYS:
        if key not in header:
            raise ValueError(f"{origin}: no '# {key}:' line")
    if not found:
        raise ValueError(f"{origin}: no municipalities")
    try:
        valid_from = date.fromisoformat(header["valid_from"])
    except ValueError:
        raise ValueError(
            f"{origin}: valid_from {header['valid_from']!r} is not a date (YYYY-MM-DD)"
        ) from None
    return MunicipalityRegister(
        version=header["version"],
        valid_from=valid_from,
        source=header["source"],
        municipalities=MappingProxyType(dict(sorted(found.items()))),
    )


def _header_line(line: str, header: dict[str, str], where: str) -> None:
    match = _HEADER_LINE.fullmatch(line)
    if match is None:
        return  # a comment
    key, value = match.group(1), match.group(2).strip()
    if key in header:
        raise ValueError(f"{where}: a second '# {key}:' line")
    if not value:
        raise ValueError(f"{where}: '# {key}:' has no value")
    header[key] = value


def _column_row(cells: list[str], where: str) -> list[str]:
    missing = [c for c in COLUMNS if c not in cells]
    if missing:
        raise ValueError(f"{where}: the column row lacks {', '.join(missing)} (expected {','.join(COLUMNS)})")
    unknown = [c for c in cells if c not in COLUMNS]
    if unknown or len(cells) != len(set(cells)):
        raise ValueError(f"{where}: the column row has unknown or repeated columns: {','.join(cells)}")
    return cells


def _row(cells: list[str], columns: list[str], where: str) -> Municipality:
    if len(cells) != len(columns):
        raise ValueError(f"{where}: {len(cells)} values for {len(columns)} columns")
    row = dict(zip(columns, cells, strict=True))
    number, county = row["number"], row["county"]
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"{where}: the municipality number {number!r} is not 4 digits")
    if not row["name"]:
        raise ValueError(f"{where}: municipality {number} has no name")
    if not _COUNTY.fullmatch(county):
        raise ValueError(f"{where}: the county {county!r} of {number} is not 2 digits")
    if county != number[:2]:
        raise ValueError(
            f"{where}: the county of {number} is {number[:2]} (its first two digits), not {county}"
        )
    for column in ("police_district", "konfliktrad_office"):
        if not _CODE.fullmatch(row[column]):
            raise ValueError(
                f"{where}: the {column} {row[column]!r} of {number} is not a code "
                "(lower-case letters and '-', 2 to 40)"
            )
    return Municipality(
        number=number,
        name=row["name"],
        county=county,
        police_district=row["police_district"],
        konfliktrad_office=row["konfliktrad_office"],
    )


def _default() -> MunicipalityRegister:
    data = resources.files("domain.data").joinpath(DEFAULT_FILE)
    return parse_register(data.read_text(encoding="utf-8"), f"domain/data/{DEFAULT_FILE}")


DEFAULT_REGISTER: MunicipalityRegister = _default()
