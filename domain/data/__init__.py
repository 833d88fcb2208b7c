"""Data shipped with the domain: the municipality register (domain/municipalities.py)."""
