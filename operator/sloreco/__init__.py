"""sloreco: recommends SLO targets from Prometheus history.

The package is layered (SPEC §4): a pure statistical core (``durations``, ``history``,
``bootstrap``, ``availability``, ``latency``, ``explain``, ``engine``, ``results``), the only I/O
modules (``prometheus``, ``kube``), one reconcile pass (``reconcile``), and the thin kopf adapters
(``handlers``). The ``sloreco`` CLI (``cli``) sits on the same core.
"""

__version__ = "0.1.0"
