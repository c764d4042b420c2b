"""Checks on how the service configures and uses its database (SQLAlchemy engines)."""
