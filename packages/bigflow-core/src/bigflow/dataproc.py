"""BigFlow 1.x import path ``bigflow.dataproc``: the public names of the bigflow-spark plugin (``bigflow_spark``)."""

from bigflow.compat import plugin_package

__getattr__ = plugin_package(__name__, "bigflow-spark", "bigflow_spark")
