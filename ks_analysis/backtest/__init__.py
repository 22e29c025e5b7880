"""Backtest: vintage-honest rolling-origin replay of the forecast engine, scores and calibration."""
