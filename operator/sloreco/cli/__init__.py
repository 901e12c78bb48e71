"""The ``sloreco`` command: the same analysis as the operator, one-shot, without a cluster."""
