from bigflow.plugins import hookimpl


@hookimpl
def register_job_types(register):
    register("fine", object)
    raise ValueError("registration exploded")


@hookimpl
def before_job(job, context):
    raise RuntimeError("observer exploded")
