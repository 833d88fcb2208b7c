"""Loading the municipality register (`RUSKONTRAKT_MUNICIPALITY_REGISTER`).

Without a file the service uses the register shipped with the domain
(`domain/data/municipalities-2024.csv`); a file replaces it whole and has the same form:
`#` header lines with `version`, `valid_from` and `source`, then the CSV columns
number,name,county,police_district,konfliktrad_office (docs/domain.md §9).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from domain.municipalities import DEFAULT_REGISTER, MunicipalityRegister, parse_register

SETTING = "RUSKONTRAKT_MUNICIPALITY_REGISTER"


class RegisterFileError(ValueError):
    """The municipality register file is missing, unreadable or not a register."""


def load_register(path: str | PathLike[str] | None) -> MunicipalityRegister:
    """The register in the file at `path` (the shipped default without one)."""
    if path is None:
        return DEFAULT_REGISTER
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegisterFileError(f"{SETTING}: no municipality register file at {file}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise RegisterFileError(f"{SETTING}: cannot read {file}: {error}") from error
    try:
        return parse_register(text, str(file))
    except ValueError as error:
        raise RegisterFileError(f"{SETTING}: {error}") from error
