"""One module per SLI kind (availability, latency): how it is read, recommended and backtested."""
