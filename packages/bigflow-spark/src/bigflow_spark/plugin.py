"""Hook implementations of the bigflow-spark plugin (kept light: engine imports happen inside hooks)."""
