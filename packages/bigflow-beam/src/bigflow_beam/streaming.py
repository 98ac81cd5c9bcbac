"""``BeamStreamingJob``: a streaming pipeline that reads an unbounded source on Dataflow and a bounded test
source (e.g. a ``TestStream``) on the local runners, so ``bigflow run`` can run it offline.

On Dataflow it is deployed, not run: the ``dataflow-streaming`` deploy target updates the running job in
place or drains and replaces it (see ``bigflow_beam.deploy``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bigflow.api import JobContext
from bigflow_beam import options as opts
from bigflow_beam.errors import BeamJobError
from bigflow_beam.jobs import BeamJob
from bigflow_beam.runners import DATAFLOW

if TYPE_CHECKING:
    from apache_beam import Pipeline, PTransform

class BeamStreamingJob(BeamJob):
    """Calls ``entry_point(pipeline, context, source=..., *entry_point_args, **entry_point_kwargs)``, where
    ``source`` is the PTransform to read from: ``source`` on Dataflow (e.g. ``ReadFromPubSub``), ``test_source``
    on the local runners (e.g. a ``TestStream``). Each may also be a callable ``(context) -> PTransform``,
    to take names (topics, subscriptions) from the configuration.

    The Dataflow job name is stable (``<workflow>-<job>``), so a redeploy finds the running job.
    ``transform_name_mapping`` (``{old step name: new}``) lets a job whose steps were renamed be updated in place.
    Other arguments are BeamJob's; ``wait_until_finish`` defaults to False (on Dataflow a streaming job runs until
    drained; local runs always finish with their bounded test source).
    """

    entry_point_parameters = ("source",)

    #: Deployed (and kept running) by this deploy target, not run on a schedule: DAG builders skip such jobs.
    deployed_by = "dataflow-streaming"

    def __init__(self, id: str | None = None, entry_point: Callable[..., Any] | None = None, *,
                 source: Any = None, test_source: Any = None, transform_name_mapping: Mapping[str, str] | None = None,
                 pipeline_options: Mapping[str, Any] | None = None, wait_until_finish: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(id, entry_point, pipeline_options=pipeline_options, wait_until_finish=wait_until_finish,
                         **kwargs)
        if source is None and test_source is None:
            raise BeamJobError(f"{self.label}: give a source (read on Dataflow) and/or a test_source (read by "
                               "local runs, e.g. a TestStream)")
        self.source = source
        self.test_source = test_source
        self.transform_name_mapping = dict(transform_name_mapping or {})

    def init_pipeline(self, context: JobContext, pipeline: Pipeline) -> None:
        assert self.entry_point is not None
        self.entry_point(pipeline, context, *self.entry_point_args, source=self.source_for(context, pipeline),
                         **self.entry_point_kwargs)

    def source_for(self, context: JobContext, pipeline: Pipeline) -> PTransform:
        """``source`` on Dataflow, ``test_source`` elsewhere; a one-line error when the needed one is missing."""
        remote = pipeline.options.get_all_options().get("runner") == DATAFLOW
        chosen, name = (self.source, "source") if remote else (self.test_source, "test_source")
        if chosen is None:
            where = "on Dataflow" if remote else "on the local runner"
            raise BeamJobError(f"{self.label}: no {name} to read {where}; give {name}=... to the job")
        from apache_beam import PTransform

        return chosen if isinstance(chosen, PTransform) else chosen(context)

    def set_default_pipeline_options(self, context: JobContext, options: dict[str, Any]) -> None:
        options.setdefault("job_name", opts.job_name(context.workflow_id, self.id, unique=False))
        super().set_default_pipeline_options(context, options)

    def create_pipeline_options(self, context: JobContext) -> Any:
        from apache_beam.options.pipeline_options import StandardOptions

        options = super().create_pipeline_options(context)
        options.view_as(StandardOptions).streaming = True
        return options

    def dataflow_job(self, context: JobContext) -> Any:
        """The Dataflow job this streaming job would submit (``apiclient.Job``), built offline (``--dry_run``)."""
        import apache_beam as beam
        from apache_beam.options.pipeline_options import TestOptions

        from bigflow_beam.runners import make_runner

        context = context._replace(config={**context.config, "beam_runner": DATAFLOW})
        options = self.create_pipeline_options(context)
        options.view_as(TestOptions).dry_run = True
        pipeline = beam.Pipeline(runner=make_runner(DATAFLOW), options=options)
        self.build_graph(context, pipeline)
        return pipeline.run().job

