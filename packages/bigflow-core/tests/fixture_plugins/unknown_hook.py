from bigflow.plugins import hookimpl


@hookimpl
def register_job_typos(register):
    register("typo", object)
