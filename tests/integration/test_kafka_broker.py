"""The development Kafka broker (infra/kafka/kafka.sh): SASL/SCRAM, ACLs, restarts.

Real broker only: these tests fail, never skip, when it cannot be started.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kafka import TopicPartition
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    NewTopic,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import (
    AuthorizationError,
    GroupAuthorizationFailedError,
    TopicAuthorizationFailedError,
)

from tests.servers import KAFKA_SH, REPO, KafkaBroker, free_port

pytestmark = pytest.mark.kafka


def _create_topics(broker: KafkaBroker, *names: str) -> None:
    admin = broker.admin_client()
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1) for name in names])
    admin.close()


def _produce(broker: KafkaBroker, topic: str, *values: bytes) -> None:
    producer = broker.producer(acks="all")
    for value in values:
        producer.send(topic, key=b"case-1", value=value).get(timeout=30)
    producer.flush()
    producer.close()


def _drain(consumer, want: int, timeout_s: float = 30.0) -> list:
    records: list = []
    deadline = time.monotonic() + timeout_s
    while len(records) < want and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    return records


def test_round_trip_as_service_principal(kafka_broker: KafkaBroker) -> None:
    topic = kafka_broker.topic("ruskontrakt.contracts")
    _create_topics(kafka_broker, topic)
    _produce(kafka_broker, topic, b"ContractSigned", b"StageCompleted")

    consumer = kafka_broker.consumer(topic, group_id=kafka_broker.topic("roundtrip"))
    records = _drain(consumer, 2)
    consumer.close()

    assert [(r.key, r.value) for r in records] == [
        (b"case-1", b"ContractSigned"),
        (b"case-1", b"StageCompleted"),
    ]


def test_wrong_password_is_rejected(kafka_broker: KafkaBroker) -> None:
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    config = kafka_broker.client_config("school")
    config["sasl_plain_password"] = "not-the-password"
    with pytest.raises(KafkaError):
        KafkaAdminClient(**config, bootstrap_timeout_ms=5000, request_timeout_ms=5000).list_topics()


def _acl(principal: str, resource_type: ResourceType, name: str, op: ACLOperation) -> ACL:
    return ACL(
        principal=principal,
        host="*",
        operation=op,
        permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(resource_type, name, ACLResourcePatternType.LITERAL),
    )


def _wait_until_readable(broker: KafkaBroker, agency: str, topic: str) -> None:
    """ACLs reach the authorizer through the metadata log: wait until this one has."""
    consumer = broker.consumer(agency=agency, enable_auto_commit=False)
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                consumer.beginning_offsets([TopicPartition(topic, 0)])
                return
            except TopicAuthorizationFailedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()


def test_agency_needs_an_acl_to_read_its_topic(kafka_broker: KafkaBroker) -> None:
    own = kafka_broker.topic("ruskontrakt.agency.school")
    other = kafka_broker.topic("ruskontrakt.agency.police")
    group = kafka_broker.topic("school-reader")
    _create_topics(kafka_broker, own, other)
    _produce(kafka_broker, own, b"for-school")
    _produce(kafka_broker, other, b"for-police")

    # 1. no ACL: reading is refused with an authorization error. (kafka-python's poll() on an
    #    assigned partition only logs the refused metadata; offset look-ups raise.)
    denied = kafka_broker.consumer(agency="school", enable_auto_commit=False)
    with pytest.raises(TopicAuthorizationFailedError):
        denied.beginning_offsets([TopicPartition(own, 0)])
    denied.assign([TopicPartition(own, 0)])
    with pytest.raises(TopicAuthorizationFailedError):
        denied.position(TopicPartition(own, 0), timeout_ms=10_000)
    assert denied.poll(timeout_ms=1000) == {}
    denied.close()

    # ... and through a consumer group: the group is not allowed either
    denied_group = kafka_broker.consumer(own, agency="school", group_id=group)
    with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            denied_group.poll(timeout_ms=500)
    denied_group.close()

    # 2. READ on its own topic and its consumer group, granted by the service principal
    acls = [
        _acl("User:school", ResourceType.TOPIC, own, ACLOperation.READ),
        _acl("User:school", ResourceType.GROUP, group, ACLOperation.READ),
    ]
    admin = kafka_broker.admin_client()
    result = admin.create_acls(acls)
    assert not result["failed"], result
    try:
        _wait_until_readable(kafka_broker, "school", own)
        reader = kafka_broker.consumer(own, agency="school", group_id=group)
        records = _drain(reader, 1)
        reader.close()
        assert [r.value for r in records] == [b"for-school"]

        # the ACL is for its own topic only: another agency's topic stays closed
        snoop = kafka_broker.consumer(agency="school", enable_auto_commit=False)
        with pytest.raises(AuthorizationError):
            snoop.beginning_offsets([TopicPartition(other, 0)])
        snoop.close()
    finally:
        admin.delete_acls(
            [
                ACLFilter(
                    principal=acl.principal,
                    host="*",
                    operation=acl.operation,
                    permission_type=acl.permission_type,
                    resource_pattern=ResourcePatternFilter(
                        acl.resource_pattern.resource_type,
                        acl.resource_pattern.resource_name,
                        ACLResourcePatternType.LITERAL,
                    ),
                )
                for acl in acls
            ]
        )
        admin.close()


# ---------------------------------------------------------------- kafka.sh lifecycle


def _kafka_sh(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["bash", str(KAFKA_SH), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        log = Path(env["RUSKONTRAKT_VAR"]) / "kafka" / "server.log"
        tail = log.read_text(errors="replace")[-5000:] if log.exists() else "(no log)"
        pytest.fail(
            f"kafka.sh {' '.join(args)} exited {proc.returncode}\n{proc.stdout}{proc.stderr}\n"
            f"--- server.log ---\n{tail}",
            pytrace=False,
        )
    return proc


def _pid(var: Path) -> int:
    return int((var / "kafka" / "kafka.pid").read_text().strip())


def test_up_is_idempotent_and_survives_kill_9(tmp_path: Path) -> None:
    """A second broker in its own state dir and ports, so the shared one is not disturbed."""
    var = tmp_path / "var"
    port, cport = free_port(), free_port()
    env = {
        **os.environ,
        "RUSKONTRAKT_VAR": str(var),
        "RUSKONTRAKT_KAFKA_PORT": str(port),
        "RUSKONTRAKT_KAFKA_CONTROLLER_PORT": str(cport),
    }
    broker = KafkaBroker(
        bootstrap=f"127.0.0.1:{port}",
        service_user="ruskontrakt",
        service_password="ruskontrakt-secret",
        mechanism="SCRAM-SHA-512",
        security_protocol="SASL_PLAINTEXT",
        agency_credentials={},
        run_id="restart" + uuid.uuid4().hex[:8],
    )
    try:
        _kafka_sh(env, "up")
        first = _pid(var)
        assert _kafka_sh(env, "status").returncode == 0

        again = _kafka_sh(env, "up")
        assert "already running" in again.stderr
        assert _pid(var) == first

        topic = broker.topic("ruskontrakt.prevention")
        _create_topics(broker, topic)
        _produce(broker, topic, b"before-crash")
        broker.close_clients()

        os.kill(first, 9)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _kafka_sh(env, "status", check=False).returncode == 0:
            time.sleep(0.2)
        assert _kafka_sh(env, "status", check=False).returncode != 0

        restarted = _kafka_sh(env, "up")
        assert "stale" in restarted.stderr or "starting" in restarted.stderr
        assert _pid(var) != first
        assert (var / "kafka" / "data" / "meta.properties").stat().st_size != 0

        consumer = broker.consumer(topic, group_id=broker.topic("after-crash"))
        records = _drain(consumer, 1, timeout_s=60)
        broker.close_clients()
        assert [r.value for r in records] == [b"before-crash"]

        _kafka_sh(env, "down")
        assert _kafka_sh(env, "status", check=False).returncode == 3
    finally:
        broker.close_clients()
        _kafka_sh(env, "down", check=False)
