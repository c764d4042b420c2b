"""Fixer of API-RESPONSE-LEAK."""
