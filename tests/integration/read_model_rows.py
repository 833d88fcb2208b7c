"""Every read-model row, with the sealed case documents opened: what tests compare."""

from __future__ import annotations

from typing import Any

from infra.db.read_models import ReadModels, doc_bytes
from services.keys import SubjectKeys
from services.messages import open_json
from services.projector import doc_aad


def snapshot(models: ReadModels, keys: SubjectKeys) -> dict[str, list[Any]]:
    rows = models.dump()
    opened = []
    for agency, case_id, track, policy_version, doc in rows["rm_case_views"]:
        key = keys.key_for_case(case_id)
        assert key is not None
        opened.append(
            (agency, case_id, track, policy_version, open_json(doc_bytes(doc), key, doc_aad(agency, case_id)))
        )
    return {**rows, "rm_case_views": opened}
