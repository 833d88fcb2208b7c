"""compose.yaml (deployment) is consistent with the code: services, images, health checks,
volumes, and app configuration only through RUSKONTRAKT_* keys that are Settings fields."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infra.settings import Settings

REPO = Path(__file__).resolve().parents[2]
APP_SERVICES = {"api": "serve", "relay": "relay", "projector": "project", "deadlines": "deadlines"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return env


def test_services(compose: dict) -> None:
    assert {"postgres", "kafka", *APP_SERVICES} <= set(compose["services"])


def test_images(compose: dict) -> None:
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    kafka_image = services["kafka"]["image"]
    assert kafka_image.startswith("apache/kafka:4."), kafka_image
    for name, command in APP_SERVICES.items():
        assert services[name]["build"] == ".", name
        assert services[name]["command"] == [command], name
    assert (REPO / "Dockerfile").is_file()
    assert (REPO / ".dockerignore").is_file()


def test_kafka_is_kraft_with_scram_and_acls(compose: dict) -> None:
    env = _environment(compose["services"]["kafka"])
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "ZOOKEEPER" not in " ".join(env)
    assert env["KAFKA_LISTENER_NAME_CLIENT_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "User:ruskontrakt" in env["KAFKA_SUPER_USERS"]


@pytest.mark.parametrize("name", ["postgres", "kafka", "api", "relay", "projector"])
def test_every_service_has_a_healthcheck(compose: dict, name: str) -> None:
    check = compose["services"][name].get("healthcheck")
    assert check and check.get("test"), f"{name} has no healthcheck"
    assert not check.get("disable", False)


def test_all_services_have_healthchecks(compose: dict) -> None:
    missing = [n for n, s in compose["services"].items() if not (s.get("healthcheck") or {}).get("test")]
    assert missing == []


def test_named_volumes(compose: dict) -> None:
    declared = set(compose.get("volumes") or {})
    assert {"postgres-data", "kafka-data"} <= declared
    used = set()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            assert not source.startswith((".", "/", "~")), f"{name}: bind mount {volume!r}"
            assert source in declared, f"{name}: volume {source!r} not declared"
            used.add(source)
    assert used == declared


def test_app_environment_keys_are_settings(compose: dict) -> None:
    fields = set(Settings.model_fields)
    for name in APP_SERVICES:
        env = _environment(compose["services"][name])
        assert env, f"{name} has no environment"
        for key in env:
            assert key.startswith("RUSKONTRAKT_"), f"{name}: {key} is not a RUSKONTRAKT_ setting"
            field = key.removeprefix("RUSKONTRAKT_").lower()
            assert field in fields, f"{name}: {key} is not a field of infra.settings.Settings"
        # the deployment uses the real backends, not the embedded mode
        assert env["RUSKONTRAKT_DATABASE_URL"].startswith("postgresql://")
        assert env["RUSKONTRAKT_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env["RUSKONTRAKT_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_no_env_files_or_secrets_in_plain_text(compose: dict) -> None:
    for name, service in compose["services"].items():
        assert "env_file" not in service, f"{name}: configuration only via environment"
        for key, value in _environment(service).items():
            if any(word in key for word in ("PASSWORD", "SECRET")):
                assert str(value).startswith("${"), f"{name}: {key} is hard-coded"
