"""BigFlow 1.x import path ``bigflow.bigquery.dataset_manager``: the dataset manager of bigflow-bigquery."""

from bigflow.compat import plugin_exports

_NAMES = {
    "DatasetManager": "bigflow_bigquery.dataset",
    "AliasNotFoundError": "bigflow_bigquery.errors",
    "DEFAULT_LOCATION": "bigflow_bigquery.settings",
}
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-bigquery", _NAMES)
__all__ = list(_NAMES)
