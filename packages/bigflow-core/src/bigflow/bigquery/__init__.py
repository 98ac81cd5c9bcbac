"""BigFlow 1.x import path ``bigflow.bigquery``: the public names of the bigflow-bigquery plugin (``bigflow_bigquery``).

The 1.x submodules (``interactive``, ``job``, ``dataset_manager``, ``dataset_configuration``) map 1.x names onto
the plugin's modules; nothing is imported until a name is used.
"""

from bigflow.compat import plugin_package

__getattr__ = plugin_package(__name__, "bigflow-bigquery", "bigflow_bigquery",
                             {"interactive", "job", "dataset_manager", "dataset_configuration"})
