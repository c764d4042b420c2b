"""Detectors of the Pydantic and API contract categories (PYD-*, API-RESPONSE-LEAK, ...)."""
