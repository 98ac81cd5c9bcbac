"""BigFlow 1.x import path ``bigflow.dataflow``: the public names of the bigflow-beam plugin (``bigflow_beam``).

The 1.x submodules ``job`` and ``options`` map 1.x names onto the plugin's modules; nothing is imported until a
name is used.
"""

from bigflow.compat import plugin_package

__getattr__ = plugin_package(__name__, "bigflow-beam", "bigflow_beam", {"job", "options"})
