"""BigFlow 1.x import path ``bigflow.bigquery.job``: the component job of bigflow-bigquery and its defaults."""

from bigflow.compat import plugin_exports

_NAMES = dict.fromkeys(("Job", "DEFAULT_RETRY_COUNT", "DEFAULT_RETRY_PAUSE_SEC"), "bigflow_bigquery.interactive")
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-bigquery", _NAMES)
__all__ = list(_NAMES)
