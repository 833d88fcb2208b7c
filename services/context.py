"""Who asks, and when: what every use case is given besides its own arguments.

The edges (HTTP, CLI, scheduler, demo) build a `Context` from what they authenticated;
the applications decide permission and need to know from it and name it in the access
log, so the decision is the same whichever edge asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.evaluation_forms import DEFAULT_FORMS, EvaluationForms
from domain.municipalities import DEFAULT_REGISTER, MunicipalityRegister
from domain.need_to_know import Viewer, viewer_of
from domain.policy import Track
from domain.rules import Rules
from domain.values import Actor, Agency


@dataclass(frozen=True)
class Context:
    sub: str  # the user id, as the identity provider (or the CLI's operator) names them
    agency: Agency
    at: datetime  # the instant the use case acts at: judged by the edge's clock, once
    rules: Rules
    register: MunicipalityRegister = DEFAULT_REGISTER  # which municipality belongs where
    forms: EvaluationForms = DEFAULT_FORMS  # what evaluation answers are checked against
    unit: str | None = None  # the caller's office: municipality, police district, ... (docs/domain.md §9)
    role: str | None = None  # police only: prevention | investigation
    # `Prefer: return=minimal`: a command answers with id and version only, shows no case
    # view and so has nothing to log.
    shows_view: bool = True

    @property
    def actor(self) -> Actor:
        return Actor(self.sub, self.agency)

    def viewer(self, track: Track) -> Viewer | None:
        """Which unit's view the caller sees on `track` (None: no case of it, docs/domain.md §9)."""
        return viewer_of(self.agency, self.unit, self.role, track is Track.PREVENTION)
