"""The municipality register in force (docs/api.md, "Need to know, intake and relations").

Public reference data: any authenticated user may read it. A case's units derive from it
(docs/domain.md §9), so a caller can see which police district, Conflict Council office
and county a municipality relates a case to, and which register version says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from domain.municipalities import MunicipalityRegister
from infra.api.deps import ContainerDep, PrincipalDep
from infra.api.problems import ProblemError

router = APIRouter(tags=["register"])

MunicipalityNumber = Annotated[
    str, Path(pattern=r"^[0-9]{4}$", description="Municipality number (kommunenummer), 4 digits")
]
CountyNumber = Annotated[
    str | None, Query(pattern=r"^[0-9]{2}$", description="Only the municipalities of this county (2 digits)")
]
# The 404 is a problem document like every refusal (infra/api/problems.py, infra/api/openapi.py).
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "No municipality with this number in the register in force",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


def register_document(register: MunicipalityRegister, county: str | None) -> dict[str, Any]:
    return {
        "version": register.version,
        "valid_from": register.valid_from.isoformat(),
        "source": register.source,
        "items": register.describe_all(county),
    }


def municipality_row(register: MunicipalityRegister, number: str) -> dict[str, Any]:
    if number not in register:
        raise ProblemError(
            404,
            "Municipality not found",
            f"No municipality {number} in the municipality register {register.version}.",
        )
    return register.describe(number)


@router.get("/register/municipalities")
def list_municipalities(c: ContainerDep, _: PrincipalDep, county: CountyNumber = None) -> dict[str, Any]:
    """Every municipality of the register in force (of one county with `county`): number,
    name, county, police district code, Conflict Council office code, with the register's
    version, date and source."""
    return register_document(c.register, county)


@router.get("/register/municipalities/{number}", responses=NOT_FOUND)
def get_municipality(number: MunicipalityNumber, c: ContainerDep, _: PrincipalDep) -> dict[str, Any]:
    """One municipality of the register in force, with the register's version and source."""
    return municipality_row(c.register, number)
