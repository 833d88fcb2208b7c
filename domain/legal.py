"""The legal basis a contract is offered under, and the ordinary reaction it replaces (§5).

An auditor's first question about a drug contract is on which legal basis it was offered
(Oslo stopped its contracts in 2022 for lack of one) and instead of what. The bases are a
small closed set, as data: the code is what is stored and what the API takes (docs/api.md
binds the codes); the text says what it stands for. Seed 004 (Trøndelag) rests its
contracts on straffeprosessloven § 71 a second paragraph, transfer to the Conflict Council.
"""

from __future__ import annotations

LEGAL_BASES: dict[str, str] = {
    "strpl_71a": "straffeprosessloven § 71 a: overføring til konfliktråd (transfer to the Conflict Council)",
    "strpl_69": "straffeprosessloven § 69: påtaleunnlatelse med vilkår (waiver with conditions)",
    "youth_follow_up": "ungdomsoppfølging i konfliktrådet (youth follow-up as the reaction's condition)",
}

# The ordinary reaction a contract replaces: a fine (forelegg, with its amount) or another.
REPLACED_KINDS = ("fine", "other")
MAX_FINE_NOK = 1_000_000
MAX_DESCRIPTION = 500
