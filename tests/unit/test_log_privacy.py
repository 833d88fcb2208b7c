from __future__ import annotations

import logging

from infra.log_privacy import MaskNationalIds


def test_national_ids_are_masked_in_log_messages_but_other_numbers_are_kept() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s"',
        ("127.0.0.1", "GET", "/subjects/01120950130/export"),
        None,
    )
    assert MaskNationalIds().filter(record) is True
    assert record.getMessage() == '127.0.0.1 - "GET /subjects/***********/export"'
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "case v%d of %d", (12, 123456), None)
    MaskNationalIds().filter(plain)
    assert plain.getMessage() == "case v12 of 123456"


def test_uvicorns_access_line_is_masked_and_still_formatted() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/subjects/01120950130/export", "1.1", 200),
        None,
    )
    MaskNationalIds().filter(record)
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    line = formatter.format(record)
    assert line == '127.0.0.1:5000 - "GET /subjects/***********/export HTTP/1.1" 200 OK'


def test_case_ids_are_kept_even_when_they_hold_eleven_digits_in_a_row() -> None:
    case = "f6d139df-3156-442f-a3f3-f12345678901"
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "POST /prevention-cases/%s by %s", (case, "01120950130"), None
    )
    MaskNationalIds().filter(record)
    assert record.getMessage() == f"POST /prevention-cases/{case} by ***********"


def test_an_id_formed_only_by_formatting_is_masked_too() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "subject %d", (1020912345 + 10**10,), None)
    MaskNationalIds().filter(record)
    assert record.getMessage() == "subject ***********"
