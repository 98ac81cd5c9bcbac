"""A small bigflow project used by bigflow-spark's tests."""
