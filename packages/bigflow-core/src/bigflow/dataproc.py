"""BigFlow 1.x import path ``bigflow.dataproc``: the public names of the bigflow-spark plugin (``bigflow_spark``)."""

from bigflow.compat import reexport

reexport(globals(), "bigflow_spark", "bigflow-spark")
