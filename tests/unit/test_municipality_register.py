"""The municipality register shipped as data (docs/domain.md §9) and its parser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.errors import InvalidInputError
from domain.municipalities import (
    DEFAULT_REGISTER,
    Municipality,
    UnknownMunicipalityError,
    parse_register,
)
from domain.values import Agency
from infra.register_file import RegisterFileError, load_register

R = DEFAULT_REGISTER
DISTRICTS = {
    "oslo",
    "ost",
    "innlandet",
    "sor-ost",
    "agder",
    "sor-vest",
    "vest",
    "more-og-romsdal",
    "trondelag",
    "nordland",
    "troms",
    "finnmark",
}
COUNTIES = {"03", "11", "15", "18", "31", "32", "33", "34", "39", "40", "42", "46", "50", "55", "56"}
# Municipalities per county in Kommuneinndeling 2024 (SSB Klass 131).
PER_COUNTY = {
    "03": 1,
    "11": 23,
    "15": 27,
    "18": 41,
    "31": 12,
    "32": 21,
    "33": 18,
    "34": 46,
    "39": 6,
    "40": 17,
    "42": 25,
    "46": 43,
    "50": 38,
    "55": 21,
    "56": 18,
}

HEADER = "# version: test-1\n# valid_from: 2024-01-01\n# source: a test\n"
COLUMNS = "number,name,county,police_district,konfliktrad_office\n"


def test_the_shipped_register_is_kommuneinndeling_2024() -> None:
    assert (R.version, R.valid_from) == ("2024-1", date(2024, 1, 1))
    assert "SSB Klass 131" in R.source and "politiet.no" in R.source and "konfliktraadet.no" in R.source
    assert len(R) == len(R.municipalities) == 357
    assert R.counties() == COUNTIES
    counted: dict[str, int] = {}
    for m in R.municipalities.values():
        counted[m.county] = counted.get(m.county, 0) + 1
    assert counted == PER_COUNTY


def test_every_municipality_has_a_district_an_office_and_its_county_in_its_number() -> None:
    assert R.police_districts() == DISTRICTS
    assert R.konfliktrad_offices() == {f"kr-{d}" for d in DISTRICTS}
    for number, m in R.municipalities.items():
        assert number == m.number and len(number) == 4 and number.isascii() and number.isdigit()
        assert m.county == number[:2] and m.name
        assert m.konfliktrad_office == "kr-" + m.police_district


def test_every_county_maps_to_at_least_one_district() -> None:
    by_county: dict[str, set[str]] = {}
    for m in R.municipalities.values():
        by_county.setdefault(m.county, set()).add(m.police_district)
    assert set(by_county) == COUNTIES and all(by_county.values())
    assert by_county["03"] == {"oslo"}
    assert by_county["32"] == {"ost", "oslo"}  # Asker and Bærum are Oslo's
    assert by_county["46"] == {"vest", "sor-vest"}  # Sunnhordland's five are Sør-Vest's
    assert by_county["42"] == {"agder", "sor-vest"}  # Sirdal is Sør-Vest's


@pytest.mark.parametrize(
    ("number", "name", "county", "district"),
    [
        ("0301", "Oslo", "03", "oslo"),
        ("5001", "Trondheim - Tråante", "50", "trondelag"),
        ("4601", "Bergen", "46", "vest"),
        ("1103", "Stavanger", "11", "sor-vest"),
        ("5501", "Tromsø", "55", "troms"),
        ("1804", "Bodø", "18", "nordland"),
        ("5601", "Alta", "56", "finnmark"),
        ("4204", "Kristiansand", "42", "agder"),
        ("3403", "Hamar", "34", "innlandet"),
        ("1508", "Ålesund", "15", "more-og-romsdal"),
        ("1580", "Haram", "15", "more-og-romsdal"),  # re-established 2024-01-01
        ("3301", "Drammen", "33", "sor-ost"),
        ("3905", "Tønsberg", "39", "sor-ost"),
        ("4003", "Skien", "40", "sor-ost"),
        ("3107", "Fredrikstad", "31", "ost"),
        ("3205", "Lillestrøm", "32", "ost"),
        ("3201", "Bærum", "32", "oslo"),
        ("3203", "Asker", "32", "oslo"),
        ("4228", "Sirdal", "42", "sor-vest"),
        ("4614", "Stord", "46", "sor-vest"),
        ("4611", "Etne", "46", "sor-vest"),
        ("4617", "Kvinnherad", "46", "vest"),
        ("5610", "Kárášjohka - Karasjok", "56", "finnmark"),
    ],
)
def test_spot_checks(number: str, name: str, county: str, district: str) -> None:
    assert R.get(number) == Municipality(number, name, county, district, f"kr-{district}")


def test_numbers_of_before_2024_are_unknown() -> None:
    for number in ("1507", "3024", "3001", "5401", "3811", "0000", "9999"):
        assert number not in R and R.get(number) is None
    assert 301 not in R  # only strings are numbers


def test_units_names_each_agency_s_unit_through_the_municipality() -> None:
    assert R.units("4601") == {
        Agency.PROSECUTION: "vest",
        Agency.POLICE: "vest",
        Agency.KONFLIKTRAD: "kr-vest",
        Agency.MUNICIPAL_HEALTH: "4601",
        Agency.CHILD_WELFARE: "4601",
        Agency.COUNTY: "46",
    }
    assert R.units("3201")[Agency.POLICE] == "oslo" and R.units("3201")[Agency.COUNTY] == "32"
    # No GP, school or auditor unit comes from a municipality.
    assert not {Agency.GP, Agency.SCHOOL, Agency.AUDITOR} & set(R.units("0301"))


def test_an_unknown_number_is_a_key_error_and_invalid_input() -> None:
    with pytest.raises(UnknownMunicipalityError) as raised:
        R.units("1507")
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, InvalidInputError)
    assert str(raised.value) == "municipality '1507' is not in the municipality register 2024-1"
    with pytest.raises(KeyError):
        R.describe("9999")


def test_describe_is_the_api_row() -> None:
    assert R.describe("5501") == {
        "number": "5501",
        "name": "Tromsø",
        "county": "55",
        "police_district": "troms",
        "konfliktrad_office": "kr-troms",
        "register_version": "2024-1",
        "source": R.source,
    }
    rows = R.describe_all()
    assert len(rows) == 357 and [r["number"] for r in rows] == sorted(r["number"] for r in rows)


def test_a_register_of_another_form_parses_with_its_comments_and_blank_lines() -> None:
    text = (
        "# a comment\n"
        + HEADER
        + "\n# source of the data: ignored, not a header key\n"
        + "name,number,konfliktrad_office,county,police_district\n"  # any column order
        + '"Våler (Østfold)",3114,kr-ost,31,ost\n'
        + "Oslo,0301,kr-oslo,03,oslo\n"
    )
    register = parse_register(text, "test.csv")
    assert (register.version, register.valid_from, register.source) == ("test-1", date(2024, 1, 1), "a test")
    assert list(register.municipalities) == ["0301", "3114"]
    assert register.municipality("3114") == Municipality("3114", "Våler (Østfold)", "31", "ost", "kr-ost")


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("0301,Oslo,03,oslo,kr-oslo\n301,Oslo,03,oslo,kr-oslo\n", 6, "'301' is not 4 digits"),
        ("03a1,Oslo,03,oslo,kr-oslo\n", 5, "'03a1' is not 4 digits"),
        ("٠٣٠١,Oslo,03,oslo,kr-oslo\n", 5, "is not 4 digits"),  # Arabic-Indic digits
        ("0301,Oslo,03,oslo,kr-oslo\n0301,Oslo,03,oslo,kr-oslo\n", 6, "0301 is listed twice"),
        ("0301,Oslo,3,oslo,kr-oslo\n", 5, "the county '3' of 0301 is not 2 digits"),
        ("0301,Oslo,04,oslo,kr-oslo\n", 5, "the county of 0301 is 03"),
        ("0301,Oslo,03,oslo\n", 5, "4 values for 5 columns"),
        ("0301,,03,oslo,kr-oslo\n", 5, "0301 has no name"),
        ("0301,Oslo,03,Oslo,kr-oslo\n", 5, "the police_district 'Oslo' of 0301 is not a code"),
        ("0301,Oslo,03,oslo,\n", 5, "the konfliktrad_office '' of 0301 is not a code"),
    ],
)
def test_a_bad_row_is_refused_naming_the_line(body: str, line: int, problem: str) -> None:
    with pytest.raises(ValueError, match=f"bad.csv, line {line}: .*{problem}"):
        parse_register(HEADER + COLUMNS + body, "bad.csv")


def test_a_missing_column_is_refused_naming_the_line() -> None:
    with pytest.raises(ValueError, match=r"bad\.csv, line 4: the column row lacks konfliktrad_office"):
        parse_register(HEADER + "number,name,county,police_district\n0301,Oslo,03,oslo\n", "bad.csv")
    with pytest.raises(ValueError, match=r"line 4: .*unknown or repeated columns"):
        parse_register(HEADER + COLUMNS.strip() + ",extra\n", "bad.csv")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "# valid_from: 2024-01-01\n# source: s\n" + COLUMNS + "0301,Oslo,03,oslo,kr-oslo\n",
            "no '# version:'",
        ),
        ("# version: 1\n# source: s\n" + COLUMNS + "0301,Oslo,03,oslo,kr-oslo\n", "no '# valid_from:'"),
        (
            "# version: 1\n# valid_from: 2024-01-01\n" + COLUMNS + "0301,Oslo,03,oslo,kr-oslo\n",
            "no '# source:'",
        ),
        (HEADER.replace("2024-01-01", "1.1.2024") + COLUMNS + "0301,Oslo,03,oslo,kr-oslo\n", "not a date"),
        (HEADER + "# version: 2\n" + COLUMNS, "line 4: a second '# version:'"),
        (HEADER.replace("test-1", "") + COLUMNS, "line 1: '# version:' has no value"),
        (HEADER + COLUMNS, "no municipalities"),
        (HEADER, "no municipalities"),
    ],
)
def test_a_bad_header_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_register(text, "bad.csv")


def test_load_register_gives_the_shipped_register_or_reads_a_file(tmp_path: Path) -> None:
    assert load_register(None) is DEFAULT_REGISTER
    file = tmp_path / "register.csv"
    file.write_text(HEADER + COLUMNS + "0301,Oslo,03,oslo,kr-oslo\n", encoding="utf-8")
    assert list(load_register(str(file)).municipalities) == ["0301"]
    assert load_register(file).version == "test-1"


def test_load_register_refuses_a_missing_or_invalid_file(tmp_path: Path) -> None:
    with pytest.raises(
        RegisterFileError, match="RUSKONTRAKT_MUNICIPALITY_REGISTER: no municipality register"
    ):
        load_register(tmp_path / "absent.csv")
    file = tmp_path / "bad.csv"
    file.write_text(HEADER + COLUMNS + "301,Oslo,03,oslo,kr-oslo\n", encoding="utf-8")
    with pytest.raises(RegisterFileError, match=r"bad\.csv, line 5: the municipality number '301'"):
        load_register(file)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RegisterFileError, match="cannot read"):
        load_register(binary)
