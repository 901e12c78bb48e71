"""sloreco: recommends SLO targets from Prometheus history.

The subpackages are the architecture (SPEC §4); lower layers never import higher ones, and
import-linter contracts in pyproject.toml check it per package:

* ``core`` — the pure statistical core (numpy and the standard library, time passed in):
  ``core.slis`` has one module per SLI kind, ``core.explain`` turns evidence into words;
* ``sources`` and ``kube`` — the only packages that do I/O (Prometheus and input files; the
  Kubernetes API);
* ``spec`` — the ServiceLevel parsed once at the boundary; ``render`` — output formats;
* ``controller`` — one level-based reconcile pass for one ServiceLevel: ``plan`` decides (pure,
  as data), the rest carries it out;
* ``runtime`` — the running operator: the kopf handlers (the only kopf decorators), the
  scheduler, the fair pass gate, per-source health, metrics; ``cli`` — the ``sloreco`` command;
* ``api``, ``errors``, ``retry``, ``settings`` — the names everyone shares, the error tree, the
  one retry policy, the operator's configuration; ``testing`` — real servers for tests and the
  demo.
"""

__version__ = "0.1.0"
