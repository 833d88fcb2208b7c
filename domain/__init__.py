"""The ruskontrakt domain: pure Python, eventsourcing.domain and statemachine only."""
