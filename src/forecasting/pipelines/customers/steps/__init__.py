"""One module per task of the ``customer_models`` DAG: ``extract``, ``validate``,
``train`` (``train_propensity`` and ``train_recommendations``), ``score``, ``publish``."""
