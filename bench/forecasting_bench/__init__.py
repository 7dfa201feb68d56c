"""Benchmarks against open-source peer forecasters."""
