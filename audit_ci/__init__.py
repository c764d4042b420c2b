"""``audit-ci``: the CI client of the audit platform (standard library only)."""

__version__ = "0.1.0"
