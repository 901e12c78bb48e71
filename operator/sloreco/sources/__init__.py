"""Where history comes from: Prometheus (HTTP, PromQL, decoding), a JSON file, synthetic services.

Only this package and ``kube`` do I/O.
"""
