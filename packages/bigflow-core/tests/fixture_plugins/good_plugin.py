"""A well-behaved plugin used by the tests."""

import click

from bigflow.plugins import hookimpl

calls = []


class GoodJob:
    def __init__(self, id, **options):
        self.id = id
        self.options = options

    def execute(self, context):
        return "good"


@click.command("good")
def good_command():
    """A command from the good plugin."""
    click.echo("good command ran")


@hookimpl
def register_job_types(register):
    register("good", GoodJob)


@hookimpl
def register_commands(register):
    register("good", good_command)


@hookimpl
def before_job(job, context):
    calls.append(("before_job", job.id))
