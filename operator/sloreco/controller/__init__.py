"""One level-based reconcile pass for one ServiceLevel: analysis, dependencies, children, status."""
