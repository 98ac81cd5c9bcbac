from bigflow.plugins import hookimpl


@hookimpl
def register_job_types(register):
    register("good", dict)
