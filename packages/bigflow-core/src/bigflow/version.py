"""Versions of bigflow-core and of the plugin API it offers."""

__version__ = "0.1.0"

#: Version of the plugin contract (hook specs and registration callbacks). A plugin declares the range it
#: supports in its ``bigflow.api`` entry point; a minor bump adds hooks, a major bump breaks them.
PLUGIN_API_VERSION = "1.0"
