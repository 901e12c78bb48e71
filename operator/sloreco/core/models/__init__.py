"""Statistical models of a window SLI, one module per kind: days, simulation, the tiers'
targets. The backtest, which judges the whole forecast, is ``core.backtest``."""
