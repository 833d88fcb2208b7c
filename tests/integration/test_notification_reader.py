"""Following the PostgreSQL notification logs: the relay's fast read and its wake-up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from domain.values import Agency
from infra.bootstrap import build
from infra.settings import Settings
from services.notification_reader import LogAnnouncements, NotificationReader
from tests.integration.flows import OFFER


def test_a_save_is_announced_at_once_and_read_back_in_notification_order(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from infra.api.app import create_app

    settings = Settings(
        database_url=fresh_postgres_url,
        key_pepper="p",
        jwt_secret="log-follower-secret-long-enough-for-hs256",
        kafka_bootstrap=None,
        checkpoint_file=tmp_path / "c.jsonl",
        checkpoint_key_file=tmp_path / "k.pem",
    )
    c = build(settings, clock=lambda: datetime(2026, 9, 10, 8, tzinfo=UTC))  # the dates of OFFER
    news = LogAnnouncements({app.name: app.recorder for app in c.apps})
    try:
        assert news.available and news.take() == set()
        follower = NotificationReader(c.contracts.recorder)
        assert follower.gap_timeout == 0  # the project's recorder serialises its writers
        with TestClient(create_app(c)) as client:
            token = c.tokens.issue(Agency.PROSECUTION, "p", "trondelag")
            for _ in range(3):
                created = client.post("/contracts", json=OFFER, headers={"Authorization": f"Bearer {token}"})
                assert created.status_code == 201, created.text
        assert news.wait(10) and news.take() == {c.contracts.name}
        read = follower.read(0, 100)
        assert [n.id for n in read] == sorted(n.id for n in read) and len(read) == 3
        assert read == list(c.contracts.recorder.select_notifications(start=1, limit=100))
    finally:
        news.close()
        c.close()
