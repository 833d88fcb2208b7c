"""Key release: a unit's own system gets the key that opens its messages of one case.

Every message on a unit topic is sealed under that unit's stream key of the case
(`services/messages.py` `stream_key`: HKDF of the case's data key, for one viewer and one
case). A token of the unit asks for it by case id (`GET /streams/keys/{case_id}`); the
answer is decided as every read of the case is (docs/domain.md §9): the unit gets the key
only when the read model holds a view of the case for the caller's own viewer (the
projector builds that view from exactly the events the router addresses to the unit),
an investigator never gets one for the preventive track, and the release is written to
the access log with the view's categories and basis before it is answered.

An unrelated unit, an unknown case and an erased person get the same 404: no existence
oracle, and after erasure nothing can be derived again, so the messages on the topics
stay sealed for ever (a consumer keeps a key in memory for `max_age` seconds at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.errors import InvalidInputError
from domain.need_to_know import Viewer
from domain.permissions import Table, may
from domain.policy import Track
from services.access import AccessRecorder
from services.context import Context
from services.errors import AccessDeniedError, CaseErasedError, CaseNotFoundError
from services.keys import SubjectKeys
from services.messages import AAD_FORMAT, STREAM_KEY_INFO, stream_key

ACTION = "stream_key"  # the access log's name for a release


class PositionWithoutTrackError(InvalidInputError):
    """`min_position` is a position in one track's log: name the `track` too."""


class Freshness(Protocol):
    def ensure(self, track: Track, min_position: int | None) -> bool: ...


class TrackQueries(Protocol):
    """What key release reads of a track's queries (`services/queries.py` `CaseQueries`)."""

    track: Track
    table: Table
    freshness: Freshness

    def stored_view(self, case_id: UUID, viewer: Viewer) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class ReleasedKey:
    case_id: str
    track: Track
    viewer: str  # `agency:unit` (the auditor: `auditor`), as in the messages' `agency`/`unit`
    key: bytes  # 32 bytes: AES-256-GCM
    max_age: int  # seconds the consumer may keep it in memory; ask again after
    derivation: str = f"HKDF-SHA256(case key, info='{STREAM_KEY_INFO}|<viewer>|<case_id>')"

    @property
    def aad(self) -> str:
        """The additional data of the case's messages, with `<version>` and `<type>` to fill in."""
        return AAD_FORMAT.format(viewer=self.viewer, case_id=self.case_id, version="<version>", type="<type>")


class StreamKeyRelease:
    def __init__(
        self,
        queries: Sequence[TrackQueries],
        keys: SubjectKeys,
        access: AccessRecorder,
        max_age: float,
    ) -> None:
        self.queries = list(queries)
        self.keys = keys
        self.access = access
        self.max_age = max(1, int(max_age))

    def release(
        self,
        case_id: UUID,
        ctx: Context,
        track: Track | None = None,
        min_position: int | None = None,
    ) -> ReleasedKey:
        """The caller's unit's stream key of the case (404 unless a message was addressed
        to it: the read model has the unit's view). `min_position` (with `track`): wait
        until the read models have applied that notification id (a message's
        `notification_id`), so a message read before the projector saw it finds its key."""
        if min_position is not None and track is None:
            raise PositionWithoutTrackError("min_position needs track (both are in the message)")
        wanted = [q for q in self.queries if track is None or q.track is track]
        permitted = [q for q in wanted if may(ctx.agency, "case_view", q.table)]
        if not permitted:
            raise AccessDeniedError(f"{ctx.agency.value} has no case of this track to open")
        for queries in permitted:
            released = self._release(queries, case_id, ctx, min_position)
            if released is not None:
                return released
        raise CaseNotFoundError(str(case_id))

    def _release(
        self, queries: TrackQueries, case_id: UUID, ctx: Context, min_position: int | None
    ) -> ReleasedKey | None:
        viewer = ctx.viewer(queries.track)
        if viewer is None:
            return None  # an investigator: the preventive track never reaches them
        queries.freshness.ensure(queries.track, min_position)
        try:
            doc = queries.stored_view(case_id, viewer)
        except CaseErasedError:
            return None  # erased since the view was projected: as unknown
        case_key = self.keys.key_for_case(str(case_id))
        if doc is None or case_key is None:
            return None
        self.access.record(self.access.entries(ctx, ACTION, [doc]))
        key = stream_key(case_key, viewer.key, str(case_id))
        return ReleasedKey(str(case_id), queries.track, viewer.key, key, self.max_age)
