"""Keep national ids out of log files (they appear in paths like /subjects/{id}/export)."""

from __future__ import annotations

import logging
import re
from typing import Any

# An 11-digit national id, unless it is part of a UUID (a case id's last group can hold
# 11 digits in a row, and an operator needs case ids in the log to follow a case).
UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
NATIONAL_ID = re.compile(rf"(?P<uuid>{UUID})|(?<!\d)\d{{11}}(?!\d)")
MASK = "*" * 11


def mask(text: str) -> str:
    return NATIONAL_ID.sub(lambda m: m.group("uuid") or MASK, text)


def _masked(value: Any) -> Any:
    return mask(value) if isinstance(value, str) else value


class MaskNationalIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Masked argument by argument, keeping their shape: uvicorn's access formatter
        # unpacks the five arguments of its record itself.
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _masked(v) for k, v in record.args.items()}
        record.msg = _masked(record.msg)
        message = record.getMessage()
        masked = mask(message)
        if masked != message:  # an id put together by the formatting itself
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Attach the mask to every handler of the root and uvicorn loggers."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.addFilter(MaskNationalIds())
        for handler in logger.handlers:
            handler.addFilter(MaskNationalIds())
