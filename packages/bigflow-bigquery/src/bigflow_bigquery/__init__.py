"""BigQuery jobs and datasets for bigflow."""

__version__ = "0.1.0"
