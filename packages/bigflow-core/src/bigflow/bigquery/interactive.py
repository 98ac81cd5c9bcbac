"""BigFlow 1.x import path ``bigflow.bigquery.interactive``: components, sensors and labels of bigflow-bigquery."""

from bigflow.compat import plugin_exports

_NAMES = {
    **dict.fromkeys(("InteractiveComponent", "interactive_component", "component", "sensor", "sensor_component",
                     "add_label", "add_label_component", "Job", "INLINE_COMPONENT_DATASET_ALIAS", "DEFAULT_RUNTIME",
                     "DEFAULT_RETRY_COUNT", "DEFAULT_RETRY_PAUSE_SEC", "NotReadyError"),
                    "bigflow_bigquery.interactive"),
    **dict.fromkeys(("InteractiveDatasetManager", "DEFAULT_OPERATION_NAME", "DEFAULT_PEEK_LIMIT"),
                    "bigflow_bigquery.dataset"),
}
__getattr__, __dir__ = plugin_exports(__name__, "bigflow-bigquery", _NAMES)
__all__ = list(_NAMES)
