"""Semgrep as a scanner: the runner and our rule pack (rules/<area>/<rule-id>.yaml)."""
