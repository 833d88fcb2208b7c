"""The edges: HTTP API, Kafka, databases, settings, and the wiring in `bootstrap`."""
