"""The BENCHMARKS.md details of the event-stream benchmarks (relay, rebuild, pipeline latency)."""

from __future__ import annotations

from typing import Any


def _ms(value: Any) -> str:
    return "–" if value is None or value != value else f"{value:g}"


PERCENTILES = ("p50_ms", "p90_ms", "p99_ms", "max_ms")


def _row(name: str, p: dict[str, Any], keys: tuple[str, ...] = PERCENTILES) -> str:
    return f"| {name} | " + " | ".join(_ms(p.get(k)) for k in keys) + " |"


def relay_details(data: list[dict[str, Any]] | None) -> list[str]:
    if not data:
        return []
    d = data[0]["details"]
    text = (
        f"{d['events']} stored events of {d['cases']} contracts (about {d['mean_message_bytes']} "
        "bytes per message), published from notification 1 onto a fresh one-partition topic per "
        "round, by the relay (`services.relay.Relay` + `KafkaPublisher`, reading PostgreSQL, "
        "storing its position) and by a bare kafka-python producer with the relay's own producer "
        f"settings sending the same messages (one flush). {d['rounds']} rounds alternated, medians "
        f"compared. Seconds per round: relay {d['seconds']['relay']}, direct "
        f"{d['seconds']['direct']}. Every round's topic held exactly the events published."
    )
    return ["### Relay to Kafka (bench_relay)", "", text, ""]


def rebuild_details(data: list[dict[str, Any]] | None) -> list[str]:
    if not data:
        return []
    d = data[0]["details"]
    text = (
        f"{d['events']} events of {d['cases']} contracts on PostgreSQL, the cases interleaved in "
        "the log (so every transaction rewrites every case). Rebuild: `infra.rebuild.rebuild` "
        f"(as `ruskontrakt rebuild-projections`): the read models emptied, then {d['workers']} "
        "process(es) (every core but one; the calling process among them), each projecting its "
        f"share of the cases in batches of {d['batch']}, and one more process counting the "
        "statistics meanwhile; the children's start-up is in the time. Baseline: the same "
        "`NotificationReader` reads and "
        "`record_or_placeholder` (unseal, transcode, plain record) on every event, in one process. "
        "Each round in a freshly built container (cold key cache, as a new process). "
        f"{d['rounds']} rounds alternated, medians compared. Seconds per round: rebuild "
        f"{d['seconds']['rebuild']}, with --workers {d.get('other_workers')} "
        f"{d['seconds']['rebuild_other']}, decode "
        f"{d['seconds']['decode']}. Every rebuild ended with the same rows and every case at its "
        "stored version."
    )
    return ["### Projection rebuild (bench_rebuild)", "", text, ""]


def pipeline_details(data: list[dict[str, Any]] | None) -> list[str]:
    if not data:
        return []
    d = data[0]["details"]
    http, vis, base = d["http"], d["visible"], d["baseline"]
    cpu = ", ".join(f"{k} {v}" for k, v in d["cpu_cores"].items())
    errors = ", ".join(f"{k}: {v}" for k, v in http["errors"].items()) or "none"
    text = (
        "Kafka mode on PostgreSQL: the uvicorn server, `ruskontrakt relay` (relay + router) and "
        "`ruskontrakt project` as separate processes. `POST /contracts/{id}/meetings` as "
        f"konfliktrad over {d['cases']} contracts, open loop at {d['offered_rate_per_s']:g}/s for "
        f"{d['seconds']:g} s: {http['ok']} answered 2xx ({d['achieved_rate_per_s']}/s), errors "
        f"{errors}; {vis['count']} seen applied by the projector, {d['not_visible']} never. "
        "Latency from each command's scheduled send time; the read models' position polled every "
        f"{d['poll_ms']:g} ms. CPU in cores during the load: {cpu}."
    )
    baseline = f"baseline: Kafka produce → consume ({base['messages']} messages at {base['rate_per_s']:g}/s)"
    lines = [
        "### Command → read model through Kafka (bench_pipeline_latency)",
        "",
        text,
        "",
        "| | p50 ms | p90 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
        _row("command → read model visible", vis),
        _row("command → HTTP answer", http),
        _row(baseline, base),
        "",
    ]
    if d.get("stages"):
        lines += [
            "Where each command's time went (the relay's send time is the message's Kafka "
            'timestamp, so "answer → relayed" is negative when the relay sent the event before '
            "the client had the answer):",
            "",
            "| stage | mean ms | p50 ms | p90 ms | p99 ms |",
            "|---|---|---|---|---|",
        ]
        stage_keys = ("mean_ms", *PERCENTILES[:3])
        lines += [_row(name, st, stage_keys) for name, st in d["stages"].items()]
        lines.append("")
    return lines


def stream_details(runs: dict[str, dict[str, Any]]) -> list[str]:
    return (
        relay_details(runs.get("bench_relay", {}).get("data"))
        + rebuild_details(runs.get("bench_rebuild", {}).get("data"))
        + pipeline_details(runs.get("bench_pipeline_latency", {}).get("data"))
    )
