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
from infra.setting_files import read_setting_file

SETTING = "RUSKONTRAKT_MUNICIPALITY_REGISTER"


class RegisterFileError(ValueError):
    """The municipality register file is missing, unreadable or not a register."""


def load_register(path: str | PathLike[str] | None) -> MunicipalityRegister:
    """The register in the file at `path` (the shipped default without one)."""
    if path is None:
        return DEFAULT_REGISTER
    file = Path(path)
    text = read_setting_file(file, SETTING, "municipality register file", RegisterFileError)
    try:
        return parse_register(text, str(file))
    except ValueError as error:
        raise RegisterFileError(f"{SETTING}: {error}") from error
