"""Apache Beam / Dataflow jobs for bigflow."""

__version__ = "0.1.0"
