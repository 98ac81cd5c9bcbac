"""Hook implementations of the bigflow-beam plugin (kept light: engine imports happen inside hooks)."""
