"""Blast radius: one number per finding that ranks it within and across severities.

The formula (documented in ``docs/blast-radius.md``)::

    blast_radius = severity_weight
                   * (1 + log2(1 + routes))                 # static reach
                   * (1 + 4 * traffic_share)                # load test, when uploaded
                   * (1 + 4 * heat_share)                   # profile, when uploaded
                   * looseness                              # typing / Pydantic categories

``severity_weight`` is 1, 2, 4, 8, 16 for info..critical, so one severity step outweighs the reach
of a single extra route but not a helper shared by dozens of routes. With no runtime input the
two runtime factors are 1: the static ranking is severity x reach and never zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from scanners.catalog import Severity
from scanners.findings import Finding

SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.INFO: 1.0,
    Severity.LOW: 2.0,
    Severity.MEDIUM: 4.0,
    Severity.HIGH: 8.0,
    Severity.CRITICAL: 16.0,
}
RUNTIME_GAIN = 4.0  # a finding on routes taking all traffic counts five times as much
# Looseness for the typing and Pydantic categories: Any > bare dict > unconstrained str.
LOOSENESS: dict[str, float] = {"any": 1.5, "dict": 1.25, "list": 1.25, "str": 1.0}


@dataclass
class RuntimeSignals:
    """Runtime inputs to the ranking, all optional.

    ``route_traffic``: route label ("GET /items/{item_id}") -> share of requests, 0..1.
    ``function_heat``: (path relative to the scanned root, function qualname within its module)
    -> share of profile samples in that function or below it, 0..1.
    """

    route_traffic: dict[str, float] = field(default_factory=dict)
    function_heat: dict[tuple[str, str], float] = field(default_factory=dict)

    def traffic_share(self, routes: Iterable[str]) -> float | None:
        if not self.route_traffic:
            return None
        return min(1.0, sum(self.route_traffic.get(route, 0.0) for route in set(routes)))

    def heat_share(self, path: str, function: str) -> float | None:
        if not self.function_heat:
            return None
        return min(1.0, max(0.0, self.function_heat.get((path, function), 0.0)))


def _routes_text(count: int) -> str:
    if count == 0:
        return "reached from no route"
    return f"reached from {count} route" + ("s" if count != 1 else "")


def score(finding: Finding, runtime: RuntimeSignals | None = None) -> tuple[float, str]:
    """The blast radius of one finding and its explanation."""
    weight = SEVERITY_WEIGHT.get(finding.severity, 1.0)
    routes = len(finding.reach)
    value = weight * (1.0 + math.log2(1.0 + routes))
    parts = [f"{finding.severity.label} severity", _routes_text(routes)]
    if runtime is not None:
        traffic = runtime.traffic_share(finding.reach)
        if traffic is not None:
            value *= 1.0 + RUNTIME_GAIN * traffic
            parts.append(f"{traffic:.0%} of traffic")
        heat = runtime.heat_share(finding.path, finding.enclosing)
        if heat is not None:
            value *= 1.0 + RUNTIME_GAIN * heat
            parts.append(f"{heat:.0%} of samples")
    looseness = finding.properties.get("looseness")
    if isinstance(looseness, str) and looseness in LOOSENESS:
        value *= LOOSENESS[looseness]
        parts.append(f"looseness {looseness}")
    if finding.evidence:
        parts.append("confirmed at runtime")
    return round(value, 2), "; ".join(parts)


def rank(findings: list[Finding], runtime: RuntimeSignals | None = None) -> list[Finding]:
    """Fill ``blast_radius`` and ``blast_explanation`` and return the findings, highest first."""
    for finding in findings:
        finding.blast_radius, finding.blast_explanation = score(finding, runtime)
    return sorted(
        findings,
        key=lambda f: (-f.blast_radius, -int(f.severity), f.path, f.start_line, f.category),
    )
