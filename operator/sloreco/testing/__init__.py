"""Real components for tests and the demo: a local control plane, a backfilled Prometheus.

Nothing here is imported by the operator at runtime; it exists so that tests, benchmarks and
``make demo`` start the *real* servers the same way (SPEC §7).
"""
