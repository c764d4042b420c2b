"""Checks on dependency manifests (requirements files, pyproject.toml, Pipfile)."""
