"""Keep national ids out of log files (they appear in paths like /subjects/{id}/export)."""

from __future__ import annotations

import logging
import re

NATIONAL_ID = re.compile(r"(?<!\d)\d{11}(?!\d)")


class MaskNationalIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = NATIONAL_ID.sub("***********", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install() -> None:
    """Attach the mask to every handler of the root and uvicorn loggers."""
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.addFilter(MaskNationalIds())
        for handler in logger.handlers:
            handler.addFilter(MaskNationalIds())
