"""Airflow DAG generation and Composer / local-Airflow deploy targets for bigflow."""

__version__ = "0.1.0"
