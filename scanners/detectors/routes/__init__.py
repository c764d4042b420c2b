"""Route-level API contract, dependency-injection and typing checks (API-MISSING-RESPONSE-MODEL,
API-UNTYPED-ENDPOINT, DI-DEEP-CHAIN, TYPE-UNTYPED-DEF)."""
