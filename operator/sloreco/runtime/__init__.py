"""The running operator: kopf handlers (the only kopf decorators), the scheduler, metrics."""
