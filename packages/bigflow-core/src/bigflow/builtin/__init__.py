"""Builtin plugins of bigflow-core; registered through the ``bigflow`` entry-point group like any other."""
