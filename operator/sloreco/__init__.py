"""sloreco: recommends SLO targets from Prometheus history.

The package is layered (SPEC §4; checked by import-linter contracts in pyproject.toml):

* the pure statistical core — numpy and the standard library only, time passed in:
  ``durations``, ``history``, ``bootstrap``, ``method``, ``inputs``, ``availability``,
  ``latency``, ``incidents``, ``evidence``, ``explain``, ``wording``, ``results``, ``engine``,
  ``report``, plus the operator's pure planning: ``api``, ``children``, ``status``, ``expiry``;
* the only modules that do I/O: ``prometheus`` (with ``promql``, ``promjson``) and ``kube``;
* one reconcile pass: ``reconcile`` over ``lifecycle``, ``dependencies``, ``analysis``,
  ``context`` and ``settings``; ``spec`` (with ``fields``, ``specerrors``) parses the
  ServiceLevel at the boundary;
* the running operator: ``runtime`` (locks, backoff, the bound on passes) and ``scheduler``
  (one task that runs each pass when it is due);
* the thin kopf adapters: ``handlers``;
* the ``sloreco`` CLI: ``cli``, ``cliargs``, ``clisources``, ``inputfile``;
* ``synth`` and ``testing``: synthetic history and the real servers for tests and the demo.
"""

__version__ = "0.1.0"
