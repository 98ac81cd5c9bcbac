"""PySpark jobs for bigflow: local, standalone cluster and Dataproc."""

__version__ = "0.1.0"
