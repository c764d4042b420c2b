"""Checks on how request handlers open, close and share database sessions."""
