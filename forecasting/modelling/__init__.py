"""Django-free forecasting models, features, intervals and backtests: arrays (pandas) in, arrays out.

Nothing here imports Django, so the models can be tested and benchmarked alone (docs/forecasting.md).
"""
