"""Hook implementations of the bigflow-airflow plugin (kept light: engine imports happen inside hooks)."""
