"""Hook implementations of the bigflow-bigquery plugin (kept light: engine imports happen inside hooks)."""
