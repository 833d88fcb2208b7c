"""The register of information booklets handed out with a consent (docs/domain.md §4), as data.

Each consent records the version of the booklet the family was given (seed 004, 2.1
Informasjonshefte); the version must be one that exists, in a language it was published
in, so an auditor can find out what the family read. A new edition or translation is a new
entry here (or in the rules a county loads, `Rules.booklets`); old consents keep theirs.
"""

from __future__ import annotations

# version -> the languages it is published in (ISO 639-1: bokmål, nynorsk, English, North Sami)
BOOKLETS: dict[str, tuple[str, ...]] = {
    "2026-1": ("nb", "nn", "en", "se"),
}
