"""Need to know: which office of an agency is related to a case, and from when (docs/domain.md §9).

An agency is many offices (units). Access is decided for a unit, never for a whole
agency (Normen factsheet 14, *tjenstlig behov*): the policy table says what an agency may
see of an event, this module says whether the unit asking is one of the agency's units
related to the case **at that event's time** — like consent, a relation that ended keeps
what it showed and shows nothing new.

Relations come only from events: the offer (the offering prosecutor's district, and the
units its municipalities belong to, looked up in the municipality register when it was
offered and recorded in the event), `ResidenceChanged`, `GpRegistered`,
`SchoolRegistered`, `TeamMemberAdded` / `TeamMemberRemoved`; on the preventive track the
concern's municipality.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidInputError
from domain.municipalities import MunicipalityRegister
from domain.policy import EventRecord
from domain.values import Agency

# What each agency's unit is (docs/domain.md §9), as a pattern of its code.
UNIT_FORMATS: dict[Agency, tuple[str, str]] = {
    Agency.PROSECUTION: (r"[a-z][a-z-]{1,39}", "a police district code"),
    Agency.POLICE: (r"[a-z][a-z-]{1,39}", "a police district code"),
    Agency.KONFLIKTRAD: (r"[a-z][a-z-]{1,39}", "a Conflict Council office code"),
    Agency.MUNICIPAL_HEALTH: (r"\d{4}", "a municipality number (4 digits)"),
    Agency.CHILD_WELFARE: (r"\d{4}", "a municipality number (4 digits)"),
    Agency.GP: (r"\d{4,9}", "the GP's HPR number (4 to 9 digits)"),
    Agency.SCHOOL: (r"\d{9}", "the school's organisation number (9 digits)"),
    Agency.COUNTY: (r"\d{2}", "a county number (2 digits)"),
}
POLICE_ROLES = ("prevention", "investigation")
# On the preventive track a police district's view is its prevention unit's: a view, read
# model and Kafka topic of their own (`police:trondelag.prevention`), never the district's
# shared one, so no investigator's token or principal reaches them.
PREVENTION_UNIT = ".prevention"


class UnitFormatError(InvalidInputError):
    """A unit code that is not of the form the agency's units have."""


class UnknownMunicipalityError(InvalidInputError):
    """The municipality number is not in the municipality register in force."""


def municipal_units(
    register: MunicipalityRegister, *numbers: str, also: Mapping[Agency, str | None] | None = None
) -> dict[str, tuple[str, ...]]:
    """The units a case in these municipalities relates to, per agency, as an event records
    them (docs/domain.md §9); `also` adds a unit of its own (the registering officer's
    district). The prosecution is related by the offence's district, not by residence."""
    units: dict[str, list[str]] = {}
    for number in dict.fromkeys(numbers):
        if number not in register:
            raise UnknownMunicipalityError(f"{number} (register {register.version})")
        for agency, unit in register.units(number).items():
            if agency is not Agency.PROSECUTION and unit not in units.setdefault(agency.value, []):
                units[agency.value].append(unit)
    for agency, own in (also or {}).items():
        if own and own not in units.setdefault(agency.value, []):
            units[agency.value].append(own)
    return {agency: tuple(codes) for agency, codes in units.items()}


def check_unit(agency: Agency, unit: str | None) -> None:
    """Refuse a unit that cannot be one of `agency`'s (the auditor has none)."""
    if agency is Agency.AUDITOR:
        return
    pattern, what = UNIT_FORMATS[agency]
    if unit is None or not re.fullmatch(pattern, unit):
        raise UnitFormatError(f"a {agency.value} unit is {what}, not {unit!r}")


@dataclass(frozen=True)
class Viewer:
    """Who a view is for: one unit of one agency (the auditor: the whole system)."""

    agency: Agency
    unit: str | None = None

    def __lt__(self, other: Viewer) -> bool:  # sorted by key: a stable order of views
        return self.key < other.key

    @property
    def key(self) -> str:
        """How read models, topics and logs name it: `agency` or `agency:unit`."""
        return self.agency.value if self.unit is None else f"{self.agency.value}:{self.unit}"

    @classmethod
    def from_key(cls, key: str) -> Viewer:
        agency, _, unit = key.partition(":")
        return cls(Agency(agency), unit or None)


AUDITOR = Viewer(Agency.AUDITOR)


def viewer_of(agency: Agency, unit: str | None, role: str | None, prevention: bool) -> Viewer | None:
    """The viewer a user is on a track; None: the user can know no case of it (an
    investigator on the preventive track: it never reaches the criminal case)."""
    if agency is Agency.AUDITOR:
        return AUDITOR
    if prevention and agency is Agency.POLICE:
        return Viewer(agency, f"{unit}{PREVENTION_UNIT}") if role == "prevention" and unit else None
    return Viewer(agency, unit)


# The agencies whose units a municipality relates a case to (besides the municipality's
# own services): the register names them per municipality.
MUNICIPAL = (Agency.MUNICIPAL_HEALTH, Agency.CHILD_WELFARE)


@dataclass
class Relation:
    viewer: Viewer
    basis: str  # offence | municipality | gp | school | team:<member id>
    start: datetime
    end: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass
class CaseRelations:
    """The relations of one case, fed its records in order."""

    relations: list[Relation] = field(default_factory=list)
    # `viewers_at` of the last instant asked, and the interval around it in which no
    # relation starts or ends (so the answer holds for any instant in it): a projection asks
    # at every event, and relations change at a few of them.
    _window: tuple[datetime | None, datetime | None, frozenset[Viewer]] | None = field(
        default=None, repr=False, compare=False
    )

    def feed(self, record: EventRecord) -> list[Viewer]:
        """Apply a record's relation changes; the viewers it relates anew (to be handed over)."""
        p, at = record.payload, record.at
        if record.type in ("ContractOffered", "ConcernRegistered"):
            district = p.get("offence_district")
            if district:
                for agency in (Agency.PROSECUTION, Agency.POLICE):
                    self._start(Viewer(agency, district), "offence", at)
            if p.get("gp"):
                self._start(Viewer(Agency.GP, p["gp"]), "gp", at)
            if p.get("school"):
                self._start(Viewer(Agency.SCHOOL, p["school"]), "school", at)
            related = _from_units(p.get("units") or {})
            if record.type == "ConcernRegistered":
                related = [_prevention_unit(v) for v in related]
            return self._replace("municipality", related, at)
        if record.type == "ResidenceChanged":
            return self._replace("municipality", _from_units(p.get("units") or {}), at)
        if record.type == "GpRegistered":
            return self._replace("gp", [Viewer(Agency.GP, p["hpr"])], at)
        if record.type == "SchoolRegistered":
            return self._replace("school", [Viewer(Agency.SCHOOL, p["organisation_number"])], at)
        if record.type == "TeamMemberAdded":
            viewer = Viewer(Agency(p["agency"]), p["unit"])
            return [viewer] if self._start(viewer, f"team:{p['member_id']}", at) else []
        if record.type == "TeamMemberRemoved":
            self._end(lambda r: r.basis == f"team:{p['member_id']}", at)
        return []

    def basis(self, viewer: Viewer, at: datetime) -> str | None:
        """Why `viewer` is related to the case at `at` (None: it is not)."""
        if viewer.agency is Agency.AUDITOR:
            return "auditor"
        found = sorted({r.basis for r in self.relations if r.viewer == viewer and r.active_at(at)})
        return ",".join(found) or None

    def viewers_at(self, at: datetime) -> frozenset[Viewer]:
        """The viewers related at `at`; the same object for instants with the same answer."""
        window = self._window
        if (
            window is not None
            and (window[0] is None or window[0] <= at)
            and (window[1] is None or at < window[1])
        ):
            return window[2]
        viewers = frozenset(r.viewer for r in self.relations if r.active_at(at))
        changes = [t for r in self.relations for t in (r.start, r.end) if t is not None]
        since = max((t for t in changes if t <= at), default=None)
        until = min((t for t in changes if t > at), default=None)
        self._window = (since, until, viewers)
        return viewers

    def ever(self) -> set[Viewer]:
        return {r.viewer for r in self.relations}

    def current(self, agency: Agency) -> list[str]:
        """The units of `agency` related now (the latest state), in order of relation."""
        seen: list[str] = []
        for r in self.relations:
            if r.viewer.agency is agency and r.end is None and r.viewer.unit not in seen:
                seen.append(r.viewer.unit or "")
        return seen

    def team(self) -> dict[str, Viewer]:
        """The team members in force, by member id."""
        return {
            r.basis.removeprefix("team:"): r.viewer
            for r in self.relations
            if r.basis.startswith("team:") and r.end is None
        }

    def _start(self, viewer: Viewer, basis: str, at: datetime) -> bool:
        """Relate `viewer` from `at`; whether it was not related (on any basis) until now."""
        was = any(r.viewer == viewer and r.end is None for r in self.relations)
        self.relations.append(Relation(viewer, basis, at))
        self._window = None
        return not was

    def _end(self, which: object, at: datetime) -> None:
        assert callable(which)
        for r in self.relations:
            if r.end is None and which(r):
                r.end = at
                self._window = None

    def _replace(self, basis: str, viewers: Iterable[Viewer], at: datetime) -> list[Viewer]:
        """The relations on `basis` become `viewers` from `at`: those that stay keep their
        interval, those that go end, the new ones start."""
        wanted = set(viewers)
        current = {r.viewer for r in self.relations if r.basis == basis and r.end is None}
        self._end(lambda r: r.basis == basis and r.viewer not in wanted, at)
        return [v for v in sorted(wanted - current) if self._start(v, basis, at)]


def _prevention_unit(viewer: Viewer) -> Viewer:
    """A police unit's view of a prevention case is its prevention unit's (`viewer_of`)."""
    if viewer.agency is Agency.POLICE and viewer.unit and not viewer.unit.endswith(PREVENTION_UNIT):
        return Viewer(Agency.POLICE, f"{viewer.unit}{PREVENTION_UNIT}")
    return viewer


def _from_units(units: Mapping[str, Iterable[str]]) -> list[Viewer]:
    return [Viewer(Agency(agency), unit) for agency, codes in units.items() for unit in codes]
