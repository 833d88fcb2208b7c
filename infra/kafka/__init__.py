"""Kafka edges: clients, topics and ACLs (clients.py) and the relay/router/projector loops (runners.py)."""
