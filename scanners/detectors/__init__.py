"""Our AST checks, one module per check, registered in ``scanners.detectors.registry``."""

from scanners.detectors.registry import REGISTRY, Detector, detector, load_detectors, run_detectors

__all__ = ["REGISTRY", "Detector", "detector", "load_detectors", "run_detectors"]
