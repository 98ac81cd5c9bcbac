"""BigQuery jobs and datasets for bigflow; also served as ``bigflow.bigquery`` (the 1.x import path).

Names are imported lazily so that loading the plugin does not import the BigQuery client.
"""

from __future__ import annotations

from bigflow.api import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "DatasetConfig": "bigflow_bigquery.config",
    "component": "bigflow_bigquery.interactive",
    "interactive_component": "bigflow_bigquery.interactive",
    "sensor": "bigflow_bigquery.interactive",
    "sensor_component": "bigflow_bigquery.interactive",
    "add_label": "bigflow_bigquery.interactive",
    "add_label_component": "bigflow_bigquery.interactive",
    "Job": "bigflow_bigquery.interactive",
    "InteractiveComponent": "bigflow_bigquery.interactive",
    "INLINE_COMPONENT_DATASET_ALIAS": "bigflow_bigquery.interactive",
    "NotReadyError": "bigflow_bigquery.interactive",
    "BigQueryJob": "bigflow_bigquery.jobs",
    "DatasetManager": "bigflow_bigquery.dataset",
    "InteractiveDatasetManager": "bigflow_bigquery.dataset",
    "DryRun": "bigflow_bigquery.dataset",
    "AliasNotFoundError": "bigflow_bigquery.errors",
    "BigQuerySqlError": "bigflow_bigquery.errors",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

__all__ = list(_LAZY)
