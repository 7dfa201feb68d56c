"""MLflow tracking, model logging, registry and the promotion rule, behind our own API."""
