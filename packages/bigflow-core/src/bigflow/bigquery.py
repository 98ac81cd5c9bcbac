"""BigFlow 1.x import path ``bigflow.bigquery``: the public names of the bigflow-bigquery plugin (``bigflow_bigquery``)."""

from bigflow.compat import reexport

reexport(globals(), "bigflow_bigquery", "bigflow-bigquery")
