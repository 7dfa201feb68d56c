"""The pipelines: each DAG's steps, one module per task (``pipelines/<name>/steps/``)."""
