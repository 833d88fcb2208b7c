"""The agency topics' published format (docs/asyncapi.yaml, docs/schemas/agency/): generated
from the code, never changed under a published version, and held by every message the
router builds. `make test` also validates the document with `@asyncapi/cli validate`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag

from domain.contract import ContractStatus
from domain.municipalities import DEFAULT_REGISTER
from domain.need_to_know import Viewer, municipal_units
from domain.policy import FIELD_CATEGORIES, Track
from domain.prevention import ConcernSource, PreventionCase
from domain.values import Agency, Category, Person, ScopeItem
from infra import asyncapi
from infra.message_schemas import message_types
from projections.access import CaseRedaction
from services.messages import (
    AGENCY_SCHEMA_VERSION,
    AgencyMessage,
    decode_agency,
    encode,
    open_agency_message,
    open_with_stream_key,
    stream_key,
)
from services.records import record_of
from services.router import agency_messages
from tests import agency_schemas
from tests.unit.contract_factory import KONFLIKTRAD, POLICE, T0, contract_in, later, schedule_and_record
from tests.unit.test_prevention_lifecycle import STEPS
from tests.unit.test_prevention_lifecycle import later as later_prevention

DOCS = Path(__file__).resolve().parents[2] / "docs"
KEY = bytes(range(32))  # a case's data key


def test_the_committed_document_and_schemas_are_what_the_code_generates() -> None:
    generated = asyncapi.generated_files()
    stale = [relative for relative, content in generated.items() if (DOCS / relative).read_text() != content]
    assert not stale, f"not as the code generates them (run `make asyncapi`): {stale}"
    folder = DOCS / "schemas" / "agency" / f"v{AGENCY_SCHEMA_VERSION}"
    extra = {str(p.relative_to(DOCS)) for p in folder.iterdir()} - set(generated)
    assert not extra, f"schemas of message types that no longer exist: {sorted(extra)}"


def test_the_format_never_changes_under_a_published_version() -> None:
    assert max(asyncapi.PUBLISHED) == AGENCY_SCHEMA_VERSION
    assert asyncapi.fingerprint() == asyncapi.PUBLISHED[AGENCY_SCHEMA_VERSION], (
        "the agency messages' format changed (an event's fields, a new event, an enum, the "
        "envelope): consumers validate against version "
        f"{AGENCY_SCHEMA_VERSION}. Bump AGENCY_SCHEMA_VERSION (services/messages.py), add the new "
        f"fingerprint {asyncapi.fingerprint()} to PUBLISHED (infra/asyncapi.py), run `make asyncapi`."
    )
    assert asyncapi.asyncapi_document()["info"]["version"] == f"{AGENCY_SCHEMA_VERSION}.0.0"


def test_the_document_names_the_topics_the_principals_the_group_and_scram() -> None:
    doc = asyncapi.asyncapi_document()
    assert doc["asyncapi"].startswith("3.")
    assert doc["channels"]["unitTopic"]["address"] == "{prefix}.agency.{agency}.{unit}"
    assert doc["channels"]["auditorTopic"]["address"] == "{prefix}.agency.auditor"
    assert doc["components"]["securitySchemes"]["scram"]["type"] == "scramSha512"
    assert doc["servers"]["kafka"]["security"] == [{"$ref": "#/components/securitySchemes/scram"}]
    assert "groupId" in doc["operations"]["receiveUnitTopic"]["bindings"]["kafka"]
    messages = doc["components"]["messages"]
    assert set(messages) == set(message_types()) == set(doc["channels"]["unitTopic"]["messages"])
    for name, message in messages.items():
        assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
        assert message["bindings"]["kafka"]["key"]["format"] == "uuid"


def test_every_field_the_policy_shares_is_a_field_of_its_message_type() -> None:
    types = message_types()
    for name, fields in FIELD_CATEGORIES.items():
        assert name in types, f"the policy names {name}, which is no message type"
        assert set(fields) <= set(types[name][1]), (name, set(fields) - set(types[name][1]))


def _contract_records() -> list[Any]:
    """A contract whose consents share with the GP and the school, with tests and a breach."""
    scope = tuple(
        ScopeItem(agency, category)
        for agency, category in [
            (Agency.GP, Category.IDENTITY),
            (Agency.GP, Category.RAPID_TEST),
            (Agency.SCHOOL, Category.IDENTITY),
            (Agency.SCHOOL, Category.OUTCOME),
            (Agency.CHILD_WELFARE, Category.NOTES),
        ]
    )
    contract = contract_in(ContractStatus.ACTIVE, scope=scope)
    contract.register_gp("9144900", KONFLIKTRAD, later(contract))
    contract.register_school("974760673", KONFLIKTRAD, later(contract))
    schedule_and_record(contract, "r1", ("THC",))
    return [record_of(e, Track.CONTRACT) for e in contract.collect_events()]


def _prevention_records() -> list[Any]:
    """A concern through counselling to a report to child welfare: police, health and child welfare."""
    case = PreventionCase.register_concern(
        case_id=uuid4(),
        person=Person("Per Hansen", "15011050260", date(2011, 3, 1)),
        source=ConcernSource.SCHOOL,
        municipality="5001",
        summary="seen buying",
        actor=POLICE,
        at=T0,
        units=municipal_units(DEFAULT_REGISTER, "5001", also={Agency.POLICE: "trondelag"}),
        register_version=DEFAULT_REGISTER.version,
    )
    for step in ("offer_conversation", "hold_conversation", "offer_counselling", "accept_counselling"):
        STEPS[step](case, later_prevention(case))
    case.report_to_child_welfare("home situation", POLICE, later_prevention(case))
    return [record_of(e, Track.PREVENTION) for e in case.collect_events()]


def _messages(records: list[Any]) -> list[AgencyMessage]:
    case = CaseRedaction()  # every viewer related to the case, and the auditor
    out = []
    for n, record in enumerate(records, 1):
        out += agency_messages(case.feed(record), KEY, n)
    return out


@pytest.mark.parametrize("records", [_contract_records, _prevention_records], ids=["contract", "prevention"])
def test_every_message_the_router_builds_matches_its_schema_on_the_topic_and_opened(records: Any) -> None:
    messages = _messages(records())
    viewers = {m.viewer for m in messages}
    assert "auditor" in viewers and len(viewers) > 2, viewers
    for message in messages:
        key, value, headers = encode(message)
        wire = agency_schemas.check_wire(value)
        assert wire["schema"] == AGENCY_SCHEMA_VERSION and key == message.case_id.encode()
        assert dict(headers)["schema_version"] == str(AGENCY_SCHEMA_VERSION).encode()
        opened = agency_schemas.check_opened(open_agency_message(decode_agency(value), KEY))
        assert opened["fields"], opened


def test_a_message_that_departs_from_its_schema_is_refused() -> None:
    message = next(m for m in _messages(_contract_records()) if m.type == "ContractOffered")
    wire = json.loads(encode(message)[1])
    opened = open_agency_message(message, KEY)
    assert agency_schemas.errors("ContractOffered", {**wire, "extra": 1})
    assert agency_schemas.errors("ContractOffered", {k: v for k, v in wire.items() if k != "sealed"})
    assert agency_schemas.errors("ContractOffered", {**wire, "schema": 1})
    assert agency_schemas.errors("ContractOfferedOpened", {**opened, "fields": {"nickname": "x"}})
    assert agency_schemas.errors("ContractOfferedOpened", {**opened, "fields": {"trinn": "two"}})
    assert agency_schemas.errors("ContractOfferedOpened", {**opened, "type": "GpRegistered"})


def test_a_units_stream_key_opens_its_own_messages_of_the_case_and_nothing_else() -> None:
    messages = _messages(_contract_records())
    gp = next(m for m in messages if m.viewer == "gp:9144900")
    other = next(m for m in messages if m.viewer != gp.viewer and m.case_id == gp.case_id)
    own = stream_key(KEY, gp.viewer, gp.case_id)
    assert open_with_stream_key(gp, own)["fields"] == open_agency_message(gp, KEY)["fields"]
    for wrong in (KEY, stream_key(KEY, other.viewer, gp.case_id), stream_key(KEY, gp.viewer, "another-case")):
        with pytest.raises(InvalidTag):
            open_with_stream_key(gp, wrong)
    with pytest.raises(InvalidTag):  # a unit's key opens no other unit's message
        open_with_stream_key(other, own)
    assert Viewer.from_key(gp.viewer) == Viewer(Agency.GP, "9144900")
