"""The intake register (docs/domain.md §10): every U18 drug case the prosecutor decides.

The denominator of equal practice: the system otherwise only knows the youths who were
offered a contract, not those who got a fine. One record per decided case: a pseudonymous
reference to the youth (the key store's keyed reference, never the national id), the
youth's municipality, the offence date, the age band, the decision and its reason, and the
contract when one was offered.

A record with decision `contract_offered` names its contract (which must exist): the
contract itself is the offer, so such a record links the register to the case and counts
once, through the contract (services/intake.py, projections/equal_practice.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from domain.errors import InvalidInputError

MAX_REASON = 2000


class IntakeDecision(Enum):
    CONTRACT_OFFERED = "contract_offered"
    FINE = "fine"
    WAIVER = "waiver"
    OTHER = "other"
    DROPPED = "dropped"


class AgeBand(Enum):
    """The youth's age on the offence date: criminal responsibility starts at 15, the
    youth track ends with the 18th birthday (docs/domain.md §5)."""

    AGE_15 = "15"
    AGE_16 = "16"
    AGE_17 = "17"


class IntakeContractMissingError(InvalidInputError):
    """A decision to offer a contract must name the contract (`contract_id`), and only that decision may."""


class IntakeDateInvalidError(InvalidInputError):
    """The offence must precede the decision, and neither may lie in the future."""


class IntakeAgeBandError(InvalidInputError):
    """The age band must be the youth's age on the offence date (15, 16 or 17)."""


@dataclass(frozen=True)
class IntakeRecord:
    intake_id: str
    municipality: str
    offence_date: date
    age_band: AgeBand
    decision: IntakeDecision
    decided_on: date
    reason: str = ""
    contract_id: str | None = None
    recorded_by: str = ""
    offence_district: str | None = None  # the recording prosecutor's police district

    def as_record(self) -> dict[str, Any]:
        return {
            "intake_id": self.intake_id,
            "municipality": self.municipality,
            "offence_date": self.offence_date.isoformat(),
            "age_band": self.age_band.value,
            "decision": self.decision.value,
            "decided_on": self.decided_on.isoformat(),
            "reason": self.reason,
            "contract_id": self.contract_id,
            "recorded_by": self.recorded_by,
            "offence_district": self.offence_district,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> IntakeRecord:
        return cls(
            intake_id=str(data["intake_id"]),
            municipality=str(data["municipality"]),
            offence_date=date.fromisoformat(data["offence_date"]),
            age_band=AgeBand(data["age_band"]),
            decision=IntakeDecision(data["decision"]),
            decided_on=date.fromisoformat(data["decided_on"]),
            reason=str(data.get("reason", "")),
            contract_id=data.get("contract_id"),
            recorded_by=str(data.get("recorded_by", "")),
            offence_district=data.get("offence_district"),
        )


def check_intake(record: IntakeRecord, today: date, birth_date: date | None = None) -> None:
    """The record's own rules (the municipality is checked against the register by the caller)."""
    if (record.decision is IntakeDecision.CONTRACT_OFFERED) != (record.contract_id is not None):
        raise IntakeContractMissingError(
            "decision contract_offered names its contract_id"
            if record.contract_id is None
            else f"a {record.decision.value} decision names no contract"
        )
    if record.offence_date > today or record.decided_on > today:
        raise IntakeDateInvalidError("the offence date and the decision date cannot be in the future")
    if record.decided_on < record.offence_date:
        raise IntakeDateInvalidError("the decision cannot come before the offence")
    if len(record.reason) > MAX_REASON:
        raise InvalidInputError(f"the reason is at most {MAX_REASON} characters")
    if birth_date is not None:
        age = record.offence_date.year - birth_date.year
        if (record.offence_date.month, record.offence_date.day) < (birth_date.month, birth_date.day):
            age -= 1
        if str(age) != record.age_band.value:
            raise IntakeAgeBandError(
                f"the youth was {age} on the offence date, not in age band {record.age_band.value}"
            )
