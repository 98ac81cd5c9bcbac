"""Core commands' old import path of the output helpers; they live in ``bigflow.output`` (``bigflow.api``)."""

from bigflow.output import print_json, print_table

__all__ = ["print_json", "print_table"]
