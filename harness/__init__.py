"""Deterministic backtest and incident-replay harness for perpetual-futures venues."""

__version__ = "0.1.0"
