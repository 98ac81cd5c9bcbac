"""Apache Beam / Dataflow jobs for bigflow (``BeamJob``; 1.x import path ``bigflow.dataflow``).

Names are imported lazily: importing the plugin does not import Beam.
"""

from __future__ import annotations

from bigflow.api import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "BeamJob": "bigflow_beam.jobs",
    "BeamStreamingJob": "bigflow_beam.streaming",
    "PipelineOptionsDict": "bigflow_beam.options",
    "BigflowOptions": "bigflow_beam.worker",
    "get_pipeline_options": "bigflow_beam.worker",
    "current_env": "bigflow_beam.worker",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
