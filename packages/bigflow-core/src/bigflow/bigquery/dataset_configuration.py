"""BigFlow 1.x import path ``bigflow.bigquery.dataset_configuration``: ``DatasetConfig`` of bigflow-bigquery."""

from bigflow.compat import plugin_exports

_NAMES = {"DatasetConfig": "bigflow_bigquery.config"}
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-bigquery", _NAMES)
__all__ = list(_NAMES)
