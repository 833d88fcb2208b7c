"""The units the tests' users belong to (docs/domain.md §9), unless a test names others.

The standard test case (tests/integration/flows.py `OFFER`) lives in Trondheim (5001); its
users are the units related to it: the district, office and services of 5001, the GP and
the school the flows register on it.
"""

from __future__ import annotations

from domain.municipalities import DEFAULT_REGISTER
from domain.values import Agency

HOME = "5001"  # Trondheim
GP_HPR = "9144900"
SCHOOL = "974760673"  # a valid organisation number
POLICE_ROLE = "prevention"  # the default police user may see the preventive track too


def unit_of(agency: Agency, municipality: str = HOME) -> str | None:
    """The unit of `agency` related to a case in `municipality` (the auditor has none)."""
    if agency is Agency.AUDITOR:
        return None
    if agency is Agency.GP:
        return GP_HPR
    if agency is Agency.SCHOOL:
        return SCHOOL
    return DEFAULT_REGISTER.units(municipality)[agency]


def role_of(agency: Agency) -> str | None:
    return POLICE_ROLE if agency is Agency.POLICE else None
