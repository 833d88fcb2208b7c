"""An agency unit's own consumer of its ruskontrakt topic, with confluent-kafka (librdkafka).

It reads the unit's topic as the unit's own Kafka principal (SASL/SCRAM-SHA-512, made by
`ruskontrakt grant-unit`) in the unit's consumer group (the topic's name), validates each
message against the AsyncAPI document the service publishes (`GET /asyncapi.json`), gets
the unit's stream key of each case with a token of the unit (`GET /streams/keys/{case_id}`),
opens the sealed content (AES-256-GCM), validates the opened message against its schema,
and prints one JSON line per message:

    {"opened": {...the envelope, fields, basis, at, actor_agency}}
    {"sealed": {...the envelope}, "reason": "..."}   # no key: erased, or not the unit's

It commits the group's offsets after it printed what it read. Keys are kept in memory for
the `max_age` the service answers with, never written anywhere.

Exit codes: 0 done; 2 bad arguments or the service unreachable; 3 the broker refused the
credentials or the topic or group (another unit's); 4 a message did not match its schema.

Needs: confluent-kafka >= 2.6.1 (its bundled librdkafka does SCRAM with Kafka 4),
httpx, cryptography, jsonschema-rs. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema_rs
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REFUSED = {
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.SASL_AUTHENTICATION_FAILED,
    KafkaError._AUTHENTICATION,
}


class Refused(Exception):
    """The broker refused these credentials for this topic or group."""


class Invalid(Exception):
    """A message that does not match its schema."""


def _secret(path: str | None, variable: str, what: str) -> str:
    """A secret from its file, or from the environment: never from the command line."""
    if path:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    value = os.environ.get(variable)
    if not value:
        raise SystemExit(f"give the {what} in a file or in {variable}")
    return value


class Schemas:
    """The message schemas of the service's AsyncAPI document, by message type."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.components = document["components"]
        self.version = int(str(document["info"]["version"]).split(".")[0])
        self._validators: dict[str, Any] = {}

    def check(self, name: str, instance: dict[str, Any]) -> None:
        """Raise Invalid unless `instance` matches components.schemas[name]."""
        if name not in self.components["schemas"]:
            raise Invalid(f"no schema {name} in the document (format version {self.version})")
        validator = self._validators.get(name)
        if validator is None:
            root = {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "components": self.components}
            validator = self._validators[name] = jsonschema_rs.Draft7Validator(root, validate_formats=True)
        errors = [
            f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(instance)
        ]
        if errors:
            raise Invalid(f"{name}: {'; '.join(errors[:5])}")


@dataclass
class Keys:
    """The unit's stream keys, asked of the service with the unit's token, kept in memory."""

    api: httpx.Client
    cached: dict[str, tuple[bytes, str, float]] = field(default_factory=dict)  # case -> key, viewer, until

    def key(self, envelope: dict[str, Any]) -> tuple[bytes, str] | None:
        case_id = envelope["case_id"]
        hit = self.cached.get(case_id)
        if hit is not None and hit[2] > time.monotonic():
            return hit[0], hit[1]
        params = {"track": envelope["track"], "min_position": envelope["notification_id"]}
        response = self.api.get(f"/streams/keys/{case_id}", params=params)
        if response.status_code == 404:
            self.cached.pop(case_id, None)
            return None  # erased, or no message of the case is the unit's: it stays sealed
        response.raise_for_status()
        released = response.json()
        key = base64.b64decode(released["key"])
        self.cached[case_id] = (key, released["viewer"], time.monotonic() + released["max_age"])
        return key, released["viewer"]


def open_message(envelope: dict[str, Any], key: bytes, viewer: str) -> dict[str, Any]:
    """The envelope and the decrypted content: nonce | AES-256-GCM, additional data
    `agency|<viewer>|<case_id>|<version>|<type>`."""
    sealed = base64.b64decode(envelope["sealed"])
    aad = f"agency|{viewer}|{envelope['case_id']}|{envelope['version']}|{envelope['type']}".encode()
    content = json.loads(AESGCM(key).decrypt(sealed[:12], sealed[12:], aad))
    return {**{k: v for k, v in envelope.items() if k != "sealed"}, **content}


def _raise_refused(error: KafkaError) -> None:
    if error.code() in REFUSED or error.fatal():
        raise Refused(f"{error.name()}: {error.str()}")


def consume(args: argparse.Namespace) -> int:
    token = _secret(args.token_file, "RK_TOKEN", "unit's token (--token-file)")
    password = _secret(args.password_file, "RK_KAFKA_PASSWORD", "principal's password (--password-file)")
    api = httpx.Client(base_url=args.api, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        schemas = Schemas(api.get("/asyncapi.json").raise_for_status().json())
    except httpx.HTTPError as error:
        print(f"the service at {args.api} did not give its AsyncAPI document: {error}", file=sys.stderr)
        return 2
    keys = Keys(api)
    errors: list[KafkaError] = []
    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "security.protocol": args.security_protocol,
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": args.username,
            "sasl.password": password,
            "group.id": args.group or args.topic,  # the only group the unit may use
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "error_cb": errors.append,
        }
    )

    def on_assign(c: Consumer, partitions: list[Any]) -> None:
        if args.from_beginning:
            for partition in partitions:
                partition.offset = OFFSET_BEGINNING
        c.assign(partitions)

    consumer.subscribe([args.topic], on_assign=on_assign)
    seen: set[tuple[str, int, str]] = set()
    count, deadline, idle_since = 0, time.monotonic() + args.timeout, None
    try:
        while time.monotonic() < deadline and (args.max_messages is None or count < args.max_messages):
            for error in errors:
                _raise_refused(error)
            message = consumer.poll(0.5)
            if message is None:
                if idle_since is not None and time.monotonic() - idle_since >= args.idle_seconds:
                    break  # at the end of the topic, and nothing new came
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    idle_since = idle_since or time.monotonic()
                    continue
                _raise_refused(message.error())
                raise KafkaException(message.error())
            idle_since = None
            envelope = json.loads(message.value())
            if envelope.get("schema") != schemas.version:
                print(json.dumps({"sealed": envelope, "reason": f"format {envelope.get('schema')}"}))
                continue
            schemas.check(envelope["type"], envelope)
            identity = (envelope["case_id"], envelope["version"], envelope["type"])
            if identity in seen:
                continue  # delivered again (at least once)
            seen.add(identity)
            found = keys.key(envelope)
            if found is None:
                line = {"sealed": {k: v for k, v in envelope.items() if k != "sealed"}, "reason": "no key"}
            else:
                opened = open_message(envelope, *found)
                schemas.check(f"{envelope['type']}Opened", opened)
                line = {"opened": opened}
            print(json.dumps(line, ensure_ascii=False), flush=True)
            count += 1
            if not args.no_commit:
                consumer.commit(message=message, asynchronous=False)
        for error in errors:
            _raise_refused(error)
    except Refused as error:
        print(f"the broker refused {args.username} on {args.topic}: {error}", file=sys.stderr)
        return 3
    except KafkaException as error:
        if isinstance(error.args[0], KafkaError) and error.args[0].code() in REFUSED:
            print(f"the broker refused {args.username} on {args.topic}: {error}", file=sys.stderr)
            return 3
        raise
    except Invalid as error:
        print(f"a message does not match its schema: {error}", file=sys.stderr)
        return 4
    finally:
        consumer.close()
        api.close()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description="Read, open and validate a unit's ruskontrakt topic.")
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, host:port")
    parser.add_argument("--security-protocol", default="SASL_PLAINTEXT", help="SASL_SSL in production")
    parser.add_argument("--username", required=True, help="The unit's principal, e.g. gp.9144900")
    parser.add_argument("--password-file", help="The principal's password (or RK_KAFKA_PASSWORD)")
    parser.add_argument("--topic", required=True, help="The unit's topic, e.g. ruskontrakt.agency.gp.9144900")
    parser.add_argument(
        "--group", help="The consumer group (default: the topic's name, the only one allowed)"
    )
    parser.add_argument(
        "--api", required=True, help="The service's base URL, e.g. https://ruskontrakt.example"
    )
    parser.add_argument("--token-file", help="A bearer token of the unit (or RK_TOKEN)")
    parser.add_argument("--from-beginning", action="store_true", help="Read the topic again from its start")
    parser.add_argument("--no-commit", action="store_true", help="Do not commit the group's offsets")
    parser.add_argument("--max-messages", type=int, help="Stop after this many messages")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="Stop this long after the end")
    parser.add_argument("--timeout", type=float, default=120.0, help="Stop after this many seconds")
    sys.exit(consume(parser.parse_args()))


if __name__ == "__main__":
    main()
