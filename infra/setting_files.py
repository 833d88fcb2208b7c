"""Reading a file a setting names (the register, the evaluation forms): one line naming the
setting and the file when it is missing or unreadable, so start-up stops with it."""

from __future__ import annotations

from pathlib import Path


def read_setting_file(path: Path, setting: str, what: str, error: type[Exception]) -> str:
    """The text of `path`; `error` ("<setting>: no <what> at <path>", or why it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{setting}: no {what} at {path}") from None
    except (OSError, UnicodeDecodeError) as failure:
        raise error(f"{setting}: cannot read {path}: {failure}") from failure
