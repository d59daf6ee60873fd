"""The offline engine: the deployed artifacts (template.yaml, the ASL, the handlers) run on moto,
with SageMaker training jobs played by local trainers. See doc/architecture.md and engine.py."""
