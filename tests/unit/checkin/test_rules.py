"""Pure rules of the checkin service: deterministic ids, venue and group checks, answer shapes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.checkin.api import MAX_IDEMPOTENCY_KEY, _idempotency_key, scan_answer
from services.checkin.errors import NotYourDependent, OutdatedPoster, RevokedPaperCode, UnknownVenue
from services.checkin.models import (
    InspectionContext,
    PersonView,
    RecordedCheckin,
    ScanContext,
    ScanResult,
    Venue,
    result_from_json,
    result_to_json,
)
from services.checkin.service import CheckinService, checkin_id_for, unique
from shared.errors import Malformed
from shared.i18n import REASONS
from shared.tokens import HealthCodeClaim, VenueClaim

VENUE = Venue(uuid.uuid4(), "海港街市", 2, None)


@given(st.uuids(), st.text(min_size=1, max_size=100), st.uuids())
def test_checkin_ids_are_deterministic_per_caller_key_and_person(
    caller: UUID, key: str, person: UUID
) -> None:
    assert checkin_id_for(caller, key, person) == checkin_id_for(caller, key, person)
    assert checkin_id_for(caller, key, person) != checkin_id_for(caller, key + "x", person)
    assert checkin_id_for(caller, key, person) != checkin_id_for(person, key, caller) or caller == person


@given(st.lists(st.sampled_from([uuid.UUID(int=i) for i in range(5)])))
def test_unique_keeps_first_order_once(ids: list[UUID]) -> None:
    result = unique(ids)
    assert len(result) == len(set(ids))
    assert result == sorted(set(ids), key=ids.index)


@given(
    st.lists(
        st.tuples(st.sampled_from(["green", "yellow", "red", "unknown"]), st.sampled_from(sorted(REASONS))),
        min_size=1,
        max_size=5,
    )
)
def test_a_stored_answer_reads_back_equal(colours: list[tuple[str, str]]) -> None:
    now = datetime.now(UTC)
    checkins = tuple(
        RecordedCheckin(uuid.uuid4(), uuid.uuid4(), "張*明", "", colour, reason, "self_scan", now)  # type: ignore[arg-type]
        for colour, reason in colours
    )
    result = ScanResult(VENUE, checkins)
    assert result_from_json(result_to_json(result)) == result


def test_venue_checks() -> None:
    with pytest.raises(UnknownVenue):
        CheckinService._check_venue(None, VenueClaim(VENUE.venue_id, 2))
    context = ScanContext(VENUE, ())
    with pytest.raises(OutdatedPoster) as gone:
        CheckinService._check_venue(context, VenueClaim(VENUE.venue_id, 1))
    assert gone.value.status_code == 410
    assert "print" in gone.value.detail
    # A token newer than the read model (its event is still on the way) is accepted.
    assert CheckinService._check_venue(context, VenueClaim(VENUE.venue_id, 3)) == VENUE


def test_only_the_caller_and_dependents_pass() -> None:
    me, child, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    people = (
        PersonView(me, "張*明", "", True, None),
        PersonView(child, "張*兒", "", True, "child"),
        PersonView(stranger, "陳*", "", False, None),
    )
    context = ScanContext(VENUE, people)
    assert [p.person_id for p in CheckinService._check_people(context, [child, me])] == [child, me]
    with pytest.raises(NotYourDependent):
        CheckinService._check_people(context, [me, stranger])


def test_a_paper_card_below_the_known_serial_is_revoked() -> None:
    person = uuid.uuid4()
    known = InspectionContext(True, None, paper_serial=3)
    with pytest.raises(RevokedPaperCode) as gone:
        CheckinService._check_paper_code(known, HealthCodeClaim(person, "paper", None, 2))
    assert (gone.value.status_code, gone.value.body()["type"]) == (
        410,
        "https://venuecode.example/problems/gone",
    )
    # The current card, a newer card (its event may lag) and dynamic codes pass.
    CheckinService._check_paper_code(known, HealthCodeClaim(person, "paper", None, 3))
    CheckinService._check_paper_code(known, HealthCodeClaim(person, "paper", None, 4))
    CheckinService._check_paper_code(known, HealthCodeClaim(person, "dynamic", 2**40, None))
    # No serial known for the person yet (paper_code.issued not arrived): any card passes.
    CheckinService._check_paper_code(InspectionContext(True, None), HealthCodeClaim(person, "paper", None, 1))


@pytest.mark.parametrize("value", [None, "", "k" * (MAX_IDEMPOTENCY_KEY + 1), "bad\nkey"])
def test_idempotency_key_must_be_1_to_100_printable_characters(value: str | None) -> None:
    with pytest.raises(Malformed):
        _idempotency_key(value)


def test_idempotency_key_of_100_characters_passes() -> None:
    assert _idempotency_key("k" * MAX_IDEMPOTENCY_KEY) == "k" * MAX_IDEMPOTENCY_KEY


def test_scan_answer_carries_reason_text_in_the_language() -> None:
    now = datetime.now(UTC)
    checkin = RecordedCheckin(
        uuid.uuid4(), uuid.uuid4(), "張*明", "", "yellow", "close_contact", "self_scan", now
    )
    # As FastAPI answers a response model: by alias, as JSON.
    body = orjson.loads(scan_answer(ScanResult(VENUE, (checkin,)), "zh-Hans").model_dump_json(by_alias=True))
    assert body["venue"] == {"venue_id": str(VENUE.venue_id), "name": "海港街市"}
    assert body["checkins"][0]["reason_text"] == "密切接触者"
    assert "masked_id" not in body["checkins"][0]
    assert body["checkins"][0]["checked_in_at"] == now.isoformat()
