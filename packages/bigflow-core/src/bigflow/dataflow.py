"""BigFlow 1.x import path ``bigflow.dataflow``: the public names of the bigflow-beam plugin (``bigflow_beam``)."""

from bigflow.compat import reexport

reexport(globals(), "bigflow_beam", "bigflow-beam")
