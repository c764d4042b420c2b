"""Runtime evidence: mapping artifacts onto the scanned code, runtime findings, evidence."""
