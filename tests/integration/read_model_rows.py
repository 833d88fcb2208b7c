"""Every read-model row, with the sealed case documents and names opened: what tests compare."""

from __future__ import annotations

from typing import Any

from infra.db.read_models import ReadModels, doc_bytes
from services.keys import SubjectKeys
from services.messages import open_json
from services.projector import doc_aad, row_aad


def snapshot(models: ReadModels, keys: SubjectKeys) -> dict[str, list[Any]]:
    rows = models.dump()
    opened = []
    for agency, case_id, track, policy_version, doc in rows["rm_case_views"]:
        key = keys.key_for_case(case_id)
        assert key is not None
        opened.append(
            (agency, case_id, track, policy_version, open_json(doc_bytes(doc), key, doc_aad(agency, case_id)))
        )
    names = []  # worklist rows: the sealed name (a fresh nonce each time it is sealed) opened
    for agency, case_id, *columns, name in rows["rm_worklist"]:
        key = keys.key_for_case(case_id)
        sealed = open_json(doc_bytes(name), key, row_aad(agency, case_id)) if name and key else None
        names.append((agency, case_id, *columns, sealed))
    return {**rows, "rm_case_views": opened, "rm_worklist": names}
