"""BigFlow 1.x import path ``bigflow.dataflow.options``: the worker-side pipeline options of bigflow-beam."""

from bigflow.compat import plugin_exports

_NAMES = dict.fromkeys(("BigflowOptions", "get_pipeline_options"), "bigflow_beam.worker")
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-beam", _NAMES)
__all__ = list(_NAMES)
