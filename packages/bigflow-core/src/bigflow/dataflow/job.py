"""BigFlow 1.x import path ``bigflow.dataflow.job``: ``BeamJob`` and its options dict, from bigflow-beam."""

from bigflow.compat import plugin_exports

_NAMES = {"BeamJob": "bigflow_beam.jobs", "PipelineOptionsDict": "bigflow_beam.options"}
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-beam", _NAMES)
__all__ = list(_NAMES)
