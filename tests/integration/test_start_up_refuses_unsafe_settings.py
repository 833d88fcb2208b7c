"""`ruskontrakt serve` off loopback without a real secret or pepper stops at once with one
line naming the setting, creating nothing; `token --ttl` beyond the cap is refused
(issue 14, finding 3). The commands run as the operator runs them: subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import REPO

SECRET = "a-secret-that-is-long-enough-for-hs256-signing"


def _run(tmp_path: Path, args: list[str], **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUSKONTRAKT_")}
    env.update({f"RUSKONTRAKT_{k.upper()}": v for k, v in settings.items()})
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "infra.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # today's code serves instead of stopping: the run times out
    )


@pytest.mark.parametrize(
    ("args", "settings", "named"),
    [
        (["serve"], {"host": "0.0.0.0", "key_pepper": "p" * 40}, "RUSKONTRAKT_JWT_SECRET"),
        (["serve", "--host", "0.0.0.0"], {"key_pepper": "p" * 40}, "RUSKONTRAKT_JWT_SECRET"),
        (["serve"], {"host": "0.0.0.0", "jwt_secret": SECRET}, "RUSKONTRAKT_KEY_PEPPER"),
        (["serve"], {"jwt_secret": "short", "key_pepper": "p" * 40}, "32 bytes"),
    ],
    ids=["host-setting", "host-option", "pepper", "short-secret"],
)
def test_serve_stops_with_one_line_naming_the_setting(
    tmp_path: Path, args: list[str], settings: dict[str, str], named: str
) -> None:
    done = _run(tmp_path, [*args, "--port", "0"], **settings)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists(), "nothing is created before the settings are judged"


def test_token_refuses_a_lifetime_beyond_the_cap(tmp_path: Path) -> None:
    refused = _run(
        tmp_path,
        [
            "token",
            "--agency",
            "police",
            "--sub",
            "p",
            "--unit",
            "oslo",
            "--role",
            "investigation",
            "--ttl",
            "86400",
        ],
    )
    assert refused.returncode == 2 and "RUSKONTRAKT_JWT_MAX_TTL_SECONDS" in refused.stderr
    issued = _run(
        tmp_path,
        [
            "token",
            "--agency",
            "police",
            "--sub",
            "p",
            "--unit",
            "oslo",
            "--role",
            "investigation",
            "--ttl",
            "3600",
        ],
    )
    assert issued.returncode == 0 and issued.stdout.count(".") == 2, issued.stderr
