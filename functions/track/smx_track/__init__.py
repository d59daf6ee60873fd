"""The track step: a run's summary recorded in MLflow (functions/track/app.py)."""
