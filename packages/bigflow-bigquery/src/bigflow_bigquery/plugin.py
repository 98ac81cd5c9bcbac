"""Hook implementations of the bigflow-bigquery plugin (kept light: engine imports happen inside hooks)."""

from bigflow.api import hookimpl


@hookimpl
def register_job_types(register):
    from bigflow_bigquery.jobs import BigQueryJob

    register("bigquery", BigQueryJob)


@hookimpl
def register_commands(register):
    from bigflow_bigquery.cli import bigquery

    register("bigquery", bigquery)


@hookimpl
def register_starters(register):
    from bigflow_bigquery.starter import BigQueryStarter

    register("bigquery", BigQueryStarter())


@hookimpl
def register_settings(register):
    from bigflow_bigquery.settings import SETTINGS

    for setting in SETTINGS:
        register(setting.name, setting)


@hookimpl(optionalhook=True)  # bigflow-airflow's hook: called by 'bigflow airflow rehearse' when it is installed
def start_rehearsal_services(environment):
    from bigflow_bigquery.rehearsal import start_rehearsal_emulator

    return start_rehearsal_emulator(environment)
