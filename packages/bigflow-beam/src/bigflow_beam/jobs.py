"""``BeamJob``: a job that builds an Apache Beam pipeline and runs it locally or on Dataflow.

Beam is imported only when a job runs (building a BeamJob, or listing job types, stays cheap).
"""

from __future__ import annotations

import inspect
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bigflow.api import BigflowError, Job, JobContext, progress
from bigflow_beam import options as opts
from bigflow_beam.errors import BeamJobError, PipelineFailed, PipelineTimeout
from bigflow_beam.runners import DATAFLOW, choose_runner

if TYPE_CHECKING:
    from apache_beam import Pipeline
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.runners.runner import PipelineResult

logger = logging.getLogger(__name__)


class BeamJob(Job):
    """Builds a pipeline with ``entry_point(pipeline, context, *entry_point_args, **entry_point_kwargs)`` and
    runs it on the runner the environment's configuration chooses (see ``docs/beam.md``).

    BigFlow 1.x compatible. Give exactly one of ``pipeline_options`` (a dict or ``PipelineOptions``; ``{}``
    takes every option from the configuration) and ``test_pipeline`` (a pipeline to run as it is).
    ``use_docker_image``: an image for Dataflow workers, True to require the project's image, False for
    Beam's default container, None (default) for the project's image when one was built.
    ``project_name`` is accepted for 1.x compatibility and not needed.
    """

    #: Keyword arguments the job itself passes to ``entry_point`` (besides the user's).
    entry_point_parameters: tuple[str, ...] = ()

    #: The pipeline is cancelled this long before ``execution_timeout_sec`` (at most 10 % of it), so that it
    #: is cancelled rather than abandoned when the job times out.
    pipeline_level_execution_timeout_shift = 120

    def __init__(
        self,
        id: str | None = None,
        entry_point: Callable[..., Any] | None = None,
        entry_point_args: tuple[Any, ...] | None = None,
        entry_point_kwargs: dict[str, Any] | None = None,
        entry_point_arguments: dict[str, Any] | None = None,
        pipeline_options: opts.PipelineOptionsDict | PipelineOptions | Mapping[str, Any] | None = None,
        pipeline_options_no_bigflow_defaults: bool = False,
        wait_until_finish: bool = True,
        test_pipeline: Pipeline | None = None,
        execution_timeout_sec: int | None = None,
        use_docker_image: bool | str | None = None,
        project_name: str | None = None,
        **job_kwargs: Any,
    ) -> None:
        super().__init__(id=id, execution_timeout_sec=execution_timeout_sec, **job_kwargs)
        name = getattr(self, "id", None)
        if not name:
            raise BeamJobError("BeamJob needs an id")
        if (test_pipeline is None) == (pipeline_options is None):
            given = "both" if test_pipeline is not None else "neither"
            raise BeamJobError(
                f"{type(self).__name__} {name!r}: give exactly one of pipeline_options and test_pipeline, got {given} "
                "(pipeline_options={} takes every option from the environment's configuration)"
            )
        if not wait_until_finish and execution_timeout_sec:
            raise BeamJobError(f"{type(self).__name__} {name!r}: execution_timeout_sec needs wait_until_finish=True")
        if pipeline_options_no_bigflow_defaults and use_docker_image:
            raise BeamJobError(f"{type(self).__name__} {name!r}: use_docker_image sets a pipeline option, which "
                               "pipeline_options_no_bigflow_defaults=True forbids")
        if entry_point is None and type(self).init_pipeline is BeamJob.init_pipeline:
            raise BeamJobError(f"{type(self).__name__} {name!r}: give an entry_point(pipeline, context, ...) or override "
                               "init_pipeline")
        if entry_point is not None and not callable(entry_point):
            raise BeamJobError(f"{type(self).__name__} {name!r}: entry_point must be callable, got {entry_point!r}")
        if hasattr(pipeline_options, "get_all_options"):  # a PipelineOptions object
            pipeline_options = pipeline_options.get_all_options(drop_default=True)
        self.entry_point = entry_point
        self.entry_point_args, self.entry_point_kwargs = self._arguments(
            entry_point, entry_point_args, entry_point_kwargs, entry_point_arguments)
        self.entry_point_arguments = entry_point_arguments
        self.pipeline_options = dict(pipeline_options or {})
        self.pipeline_options_no_bigflow_defaults = pipeline_options_no_bigflow_defaults
        self.wait_until_finish = wait_until_finish
        self.test_pipeline = test_pipeline
        self.use_docker_image = use_docker_image
        self.project_name = project_name

    def _arguments(self, entry_point: Callable[..., Any] | None, args: tuple[Any, ...] | None,
                   kwargs: dict[str, Any] | None, arguments: dict[str, Any] | None
                   ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The extra arguments of ``entry_point``, checked against its signature."""
        if arguments is not None:
            warnings.warn("BeamJob(entry_point_arguments=...) is deprecated; use entry_point_kwargs",
                          DeprecationWarning, stacklevel=3)
            if args is not None or kwargs is not None:
                raise BeamJobError(f"{self.label}: entry_point_arguments cannot be mixed with "
                                   "entry_point_args or entry_point_kwargs")
            args, kwargs = (arguments,), {}
        args, kwargs = tuple(args or ()), dict(kwargs or {})
        if entry_point is None:
            return args, kwargs
        try:
            signature = inspect.signature(entry_point)
        except (TypeError, ValueError):  # a builtin or C callable without a signature: trust it
            return args, kwargs
        own = self.entry_point_parameters
        if arguments is None and not (args or kwargs or own) and _takes_legacy_arguments(signature):
            return ({},), {}  # 1.x: entry_point(pipeline, context, entry_point_arguments) gets {}
        try:
            signature.bind(None, None, *args, **dict.fromkeys(own), **kwargs)
        except TypeError as error:
            name = getattr(entry_point, "__qualname__", repr(entry_point)).rpartition("<locals>.")[2]
            expected = ["pipeline", "context", *(f"{p}=..." for p in own)]
            expected += ["*entry_point_args"] if args else []
            expected += ["**entry_point_kwargs"] if kwargs else []
            raise BeamJobError(f"{self.label}: entry_point {name}{signature} cannot be called as "
                               f"entry_point({', '.join(expected)}): {error}") from None
        return args, kwargs

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: JobContext) -> PipelineResult:
        """Build the pipeline, run it and wait for it (unless ``wait_until_finish=False``); return its result."""
        self._started = time.monotonic()  # the deadline counts from here, as the job's timeout does
        pipeline = self.test_pipeline if self.test_pipeline is not None else self.new_pipeline(context)
        if self.test_pipeline is not None:
            self._prepare_test_pipeline(context, pipeline)
        self.build_graph(context, pipeline)
        return self.run_pipeline(context, pipeline)

    def build_graph(self, context: JobContext, pipeline: Pipeline) -> None:
        """``init_pipeline``, with a failure reported as one line naming the user's frame."""
        try:
            self.init_pipeline(context, pipeline)
        except BigflowError:
            raise
        except Exception as error:
            raise self._failure("building the pipeline failed", error) from None

    def new_pipeline(self, context: JobContext) -> Pipeline:
        import apache_beam as beam

        from bigflow_beam.runners import make_runner

        options = self.create_pipeline_options(context)
        runner = make_runner(options.get_all_options()["runner"])
        self._check_credentials(runner, options)  # before Beam's validation calls GCS (minutes offline)
        return beam.Pipeline(runner=runner, options=options)

    def _check_credentials(self, runner: Any, options: Any) -> None:
        """A one-line error saying how to log in when Dataflow would need credentials and there are none."""
        all_options = options.get_all_options()
        if type(runner).__name__ == DATAFLOW and not (all_options.get("dry_run") or all_options.get("no_auth")):
            from bigflow_beam.dataflow import check_credentials

            check_credentials(f"{self.label} on Dataflow")

    def init_pipeline(self, context: JobContext, pipeline: Pipeline) -> None:
        """Build the pipeline's graph (calls ``entry_point``); override it instead of giving an entry point."""
        assert self.entry_point is not None
        self.entry_point(pipeline, context, *self.entry_point_args, **self.entry_point_kwargs)

    def run_pipeline(self, context: JobContext, pipeline: Pipeline) -> PipelineResult:
        """Run the pipeline; cancel it and fail when it is still running at the deadline."""
        from bigflow_beam.execution import DeadlineReached, run_pipeline

        budget, shift = self._pipeline_timeout()
        left = None if budget is None else budget - (time.monotonic() - getattr(self, "_started", time.monotonic()))
        runner = type(pipeline.runner).__name__
        if self.test_pipeline is not None:
            self._check_credentials(pipeline.runner, pipeline.options)
        logger.info("BeamJob %s: running the pipeline on %s", self.id, runner)
        try:
            with progress(f"running the Beam pipeline of {self.id} on {runner}"):
                result = run_pipeline(pipeline, timeout=left, wait=self.wait_until_finish or runner != DATAFLOW,
                                      grace=min(10.0, shift))
        except DeadlineReached as reached:
            what = "the pipeline was cancelled" if reached.stopped else "cancelling the pipeline was requested"
            raise PipelineTimeout(
                f"{self.label} timed out: still running after {budget:g} s "
                f"(execution_timeout_sec={self.execution_timeout_sec}); {what}"
            ) from None
        except Exception as error:
            raise self._failure("the pipeline failed", error) from None
        self._report(pipeline, result)
        return result

    # -- options -------------------------------------------------------------------------------

    def create_pipeline_options(self, context: JobContext) -> PipelineOptions:
        """Options from the environment's configuration, overridden by the job's own ``pipeline_options``."""
        from apache_beam.options.pipeline_options import PipelineOptions

        import bigflow_beam.worker  # noqa: F401 - registers the bigflow_* options with Beam

        config = context.config or {}
        options = opts.normalized(self.pipeline_options)
        runner = choose_runner(config, context.env, options, self.label)
        if not self.pipeline_options_no_bigflow_defaults:
            defaults = opts.config_mapping(config, "beam_options")
            if runner == DATAFLOW:
                defaults.update(opts.dataflow_options_from_config(config))
            options = {**opts.normalized(defaults), **options}
        options["runner"] = runner
        if runner == DATAFLOW:
            from bigflow_beam.dataflow import check_options

            check_options(options, context.env, self.label)
        if not self.pipeline_options_no_bigflow_defaults:
            self.set_default_pipeline_options(context, options)
        self.set_bigflow_beam_options(context, options)
        return PipelineOptions(flags=[], **options)

    def set_default_pipeline_options(self, context: JobContext, options: dict[str, Any]) -> None:
        """Job name, labels and (for Dataflow) the workers' container image."""
        options.setdefault("job_name", opts.job_name(context.workflow_id, self.id))
        config = context.config or {}
        bigflow_labels = {"workflow_id": context.workflow_id, "job_id": self.id, "bigflow_env": context.env}
        options["labels"] = opts.labels_list(opts.config_value(config, "labels"), options.get("labels"),
                                             {k: v for k, v in bigflow_labels.items() if v})
        if options["runner"] == DATAFLOW:
            from bigflow_beam.dataflow import set_worker_code

            set_worker_code(options, self.use_docker_image, self.label, config, self._package())

    def set_bigflow_beam_options(self, context: JobContext, options: dict[str, Any]) -> None:
        """The ``bigflow_*`` options, read on workers by ``bigflow_beam.current_env()``."""
        options.update(bigflow_env=context.env, bigflow_workflow=context.workflow_id, bigflow_jobid=self.id,
                       bigflow_runtime=context.runtime_str, bigflow_run_id=context.run_id)

    # -- helpers -------------------------------------------------------------------------------

    def _prepare_test_pipeline(self, context: JobContext, pipeline: Pipeline) -> None:
        """Set the bigflow options on a given pipeline, and keep Beam's DirectRunner from trying Prism."""
        from apache_beam.runners.direct.direct_runner import SwitchingDirectRunner

        from bigflow_beam.local_runner import LocalRunner
        from bigflow_beam.worker import BigflowOptions

        values: dict[str, Any] = {}
        self.set_bigflow_beam_options(context, values)
        view = pipeline.options.view_as(BigflowOptions)
        for key, value in values.items():
            setattr(view, key, value)
        if type(pipeline.runner) is SwitchingDirectRunner:
            pipeline.runner = LocalRunner()

    def _pipeline_timeout(self) -> tuple[float | None, float]:
        """Seconds the job may spend before its pipeline is cancelled, and the time left then for cancelling."""
        timeout = self.execution_timeout_sec
        if not timeout or timeout <= 0:
            return None, 10.0
        shift = min(self.pipeline_level_execution_timeout_shift, timeout * 0.1)
        return timeout - shift, shift

    @property
    def label(self) -> str:
        """How messages name this job: ``BeamJob 'id'``."""
        return f"{type(self).__name__} {self.id!r}"

    def _package(self) -> str | None:
        """The top-level package of the user's code (of the entry point, else of a BeamJob subclass)."""
        module = getattr(self.entry_point, "__module__", None) or type(self).__module__
        return None if module in ("__main__", __name__) else module.split(".")[0]

    def _failure(self, what: str, error: BaseException) -> PipelineFailed:
        from bigflow_beam.failures import first_line, user_frame

        frame = user_frame(error, self._package())
        logger.debug("BeamJob %s: %s", self.id, what, exc_info=error)  # Beam's full traceback, for debugging
        where = f" at {frame}" if frame else ""
        return PipelineFailed(f"{self.label}: {what}{where}: {first_line(error)}")

    def _report(self, pipeline: Pipeline, result: PipelineResult) -> None:
        from apache_beam.options.pipeline_options import GoogleCloudOptions
        from apache_beam.runners.runner import PipelineState

        state = getattr(result, "state", None)
        job_id = result.job_id() if callable(getattr(result, "job_id", None)) else None
        if job_id:
            from bigflow_beam.dataflow import console_url

            cloud = pipeline.options.view_as(GoogleCloudOptions)
            logger.info("BeamJob %s: Dataflow job %s: %s", self.id, job_id,
                        console_url(cloud.project, cloud.region, job_id))
        if self.wait_until_finish and PipelineState.is_terminal(state) and state != PipelineState.DONE:
            raise PipelineFailed(f"{self.label}: the pipeline ended in state {state}")
        logger.info("BeamJob %s: pipeline %s", self.id, state)


def _takes_legacy_arguments(signature: inspect.Signature) -> bool:
    """True for 1.x entry points ``(pipeline, context, entry_point_arguments)`` with a required third parameter."""
    positional = [p for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 3 and positional[2].default is inspect.Parameter.empty
