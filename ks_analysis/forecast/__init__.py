"""Forecast: the one forecast engine, used by reports and by the backtest."""
