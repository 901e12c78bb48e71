"""Statistical models of a window SLI, one module per kind: days, simulation, targets, backtest."""
