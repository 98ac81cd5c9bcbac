"""Hook implementations of the bigflow-beam plugin (kept light: engine imports happen inside hooks)."""

from bigflow.api import hookimpl


@hookimpl
def register_job_types(register):
    from bigflow_beam.jobs import BeamJob
    from bigflow_beam.streaming import BeamStreamingJob

    register("beam", BeamJob)
    register("beam-streaming", BeamStreamingJob)


@hookimpl
def register_commands(register):
    from bigflow_beam.cli import beam

    register("beam", beam)


@hookimpl
def register_deploy_targets(register):
    from bigflow_beam.deploy import NAME, DataflowStreamingTarget

    register(NAME, DataflowStreamingTarget())


@hookimpl
def register_starters(register):
    from bigflow_beam.starter import BeamStarter

    register("beam", BeamStarter())


@hookimpl
def register_settings(register):
    from bigflow_beam.settings import SETTINGS

    for setting in SETTINGS:
        register(setting.name, setting)
