from __future__ import annotations

import logging

from infra.log_privacy import MaskNationalIds


def test_national_ids_are_masked_in_log_messages_but_other_numbers_are_kept() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s"', ("127.0.0.1", "GET", "/subjects/01020912345/export"),
                               None)  # fmt: skip
    assert MaskNationalIds().filter(record) is True
    assert record.getMessage() == '127.0.0.1 - "GET /subjects/***********/export"'
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "case v%d of %d", (12, 123456), None)
    MaskNationalIds().filter(plain)
    assert plain.getMessage() == "case v12 of 123456"
