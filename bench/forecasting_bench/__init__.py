"""Benchmarks of the project's models against open-source peers and baselines.

Not part of the installed ``forecasting`` package (a production worker never needs it):
``pip install --no-deps -e bench`` (``make install`` does) makes it importable, and
``forecasting benchmark ...`` imports it when run.

* :mod:`forecasting_bench.harness`: the demand models vs peers on a real dataset;
* :mod:`forecasting_bench.peers`: the open-source peer forecasters;
* :mod:`forecasting_bench.customers`: the customer models on UCI Online Retail.
"""
