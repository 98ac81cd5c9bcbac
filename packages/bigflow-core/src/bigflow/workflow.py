"""Workflows: graphs of jobs with a schedule, compatible with the BigFlow 1.x API.

A job is any object with an ``id`` and ``execute(context)``; inheriting :class:`Job` is recommended, not
required. A :class:`Workflow` validates its graph, ids and schedule when it is built, so a broken workflow
fails at import with one clear error instead of at deploy or run time.

Differences from BigFlow 1.x:

- ``Workflow.run`` and ``Workflow.run_job`` go through the local executor, so ``retry_count``,
  ``retry_pause_sec`` and ``execution_timeout_sec`` are honoured (1.x ignored them locally). The first job
  error is re-raised, as before.
- ``JobContext`` also carries ``config`` (the resolved configuration) and ``run_id``, and its ``env`` is the
  environment actually used: when none is given it comes from the config, else ``bf_env`` (1.x left it
  ``None`` when the default environment of a Config was used).
- Jobs are identified by ``id`` in list definitions too: two different jobs with one id are an error
  (1.x ran both from a list, and silently kept one from a dict).
- Cycles, duplicate ids and invalid schedules are reported when the ``Workflow`` is built, naming it. A job id
  Airflow refuses but 1.x accepted (``'first job'``) is a warning: ``bigflow run`` works, ``build dags`` refuses it.
- 1.x's ``Definition``, ``WorkflowJob`` and graph walkers live in :mod:`bigflow.compat.workflow` (importable
  from here as in 1.x).
- ``hourly_start_time`` uses the UTC offset that local time had at ``t`` (1.x used the offset of "now",
  and misread negative offsets).
"""

from __future__ import annotations

import abc
import difflib
import functools
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from bigflow import ids, runtimes, schedules
from bigflow.compat.workflow import (  # noqa: F401 (1.x names of bigflow.workflow)
    DEFAULT_EXECUTION_TIMEOUT_IN_SECONDS,
    DEFAULT_PIPELINE_LEVEL_EXECUTION_TIMEOUT_SHIFT_IN_SECONDS,
    Definition,
    LegacyJob,
    LegacyWorkflow,
    WorkflowJob,
    execute_job,
    job_node,
)
from bigflow.errors import BigflowError, InvalidWorkflowError, UnknownNameError
from bigflow.ids import check_workflow_id

if TYPE_CHECKING:
    from bigflow.configuration import Config
    from bigflow.environment import Environment
    from bigflow.executor import RunReport

DEFAULT_RETRY_COUNT = 3
DEFAULT_RETRY_PAUSE_SEC = 60
DEFAULT_EXECUTION_TIMEOUT_SEC = 10800
DEFAULT_SCHEDULE_INTERVAL = "@daily"


class InvalidJobGraph(InvalidWorkflowError):
    """BigFlow 1.x name of the error raised for an invalid job graph."""


# -- start time factories ------------------------------------------------------------------------


def daily_start_time(t: datetime) -> datetime:
    """Midnight of ``t`` minus 24 hours (the default start time factory)."""
    return t.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=24)


def hourly_start_time(t: datetime) -> datetime:
    """``t`` read as local time of this machine and converted to (naive) UTC, as in 1.x."""
    return t.replace(microsecond=0).astimezone(UTC).replace(tzinfo=None)


# -- jobs ------------------------------------------------------------------------------------------


class JobContext(NamedTuple):
    """What a job gets when it runs: the run's logical time, its workflow, environment and configuration."""

    runtime: datetime
    runtime_str: str
    workflow: Workflow | None
    workflow_id: str | None
    env: str | None
    config: Mapping[str, Any] = MappingProxyType({})
    run_id: str = ""
    environment: Environment | None = None  # the resolved environment (typed getters, sources, mask)

    @classmethod
    def make(
        cls,
        *,
        runtime: str | date | datetime | None = None,
        runtime_str: str | None = None,
        workflow: Workflow | None = None,
        workflow_id: str | None = None,
        env: str | None = None,
        config: Mapping[str, Any] | Config | None = None,
        run_id: str | None = None,
    ) -> JobContext:
        """Build a context; ``runtime`` defaults to now, ``env`` to the config's environment, else ``bf_env``.

        ``runtime_str`` is ``runtime`` formatted ``YYYY-MM-DD HH:MM:SS``, or a str ``runtime`` as written when it
        is a 1.x form (see :mod:`bigflow.runtimes`).

        A ``Config`` given as ``config`` is resolved for ``env`` (or its own choice of environment); an
        ``Environment`` becomes ``context.environment`` and, as a plain mapping, ``context.config``.
        """
        from bigflow.configuration import Config, current_env
        from bigflow.environment import Environment

        if isinstance(runtime, str):
            warnings.warn("a str runtime is deprecated, pass a datetime", DeprecationWarning, stacklevel=2)
            parsed = runtimes.parse(runtime)
            runtime_str = runtime_str or runtimes.runtime_str(runtime, parsed)  # 1.x forms kept as written
            runtime = parsed
        else:
            runtime = runtimes.parse(runtime)
        if workflow is not None and workflow_id is not None and workflow.workflow_id != workflow_id:
            raise BigflowError(f"workflow_id {workflow_id!r} does not match workflow {workflow.workflow_id!r}")
        environment = config if isinstance(config, Environment) else None
        if isinstance(config, Config):
            config = config.resolve(env)
        config = MappingProxyType(dict(config or {}))
        return cls(
            runtime=runtime,
            runtime_str=runtime_str or runtimes.format(runtime),
            workflow=workflow,
            workflow_id=workflow_id or (workflow.workflow_id if workflow is not None else None),
            env=env or config.get("env") or current_env(),
            config=config,
            run_id=run_id or new_run_id(),
            environment=environment,
        )


def new_run_id() -> str:
    """A short random id for one run of a workflow."""
    import uuid

    return uuid.uuid4().hex[:12]


@runtime_checkable
class JobLike(Protocol):
    """What a workflow needs of a job (duck typing; ``retry_count`` etc. are optional)."""

    id: str

    def execute(self, context: JobContext) -> Any: ...


class Job(LegacyJob, abc.ABC):
    """Base class for jobs; subclasses set ``id`` (class attribute or ``__init__``) and implement ``execute``."""

    id: str
    retry_count: int = DEFAULT_RETRY_COUNT
    retry_pause_sec: int = DEFAULT_RETRY_PAUSE_SEC
    execution_timeout_sec: int = DEFAULT_EXECUTION_TIMEOUT_SEC

    def __init__(self, id: str | None = None, execution_timeout_sec: int | None = None,
                 retry_count: int | None = None, retry_pause_sec: int | None = None) -> None:
        for name, value in (("id", id), ("execution_timeout_sec", execution_timeout_sec),
                            ("retry_count", retry_count), ("retry_pause_sec", retry_pause_sec)):
            if value is not None:
                setattr(self, name, value)

    @abc.abstractmethod
    def execute(self, context: JobContext) -> Any:
        """Do the job's work for ``context.runtime``."""


class JobSettings(NamedTuple):
    """Retry and timeout settings of a job, with the ``Job`` defaults for attributes a duck-typed job lacks."""

    retry_count: int
    retry_pause_sec: float
    execution_timeout_sec: float


@functools.lru_cache(maxsize=1024)
def _class_defines(cls: type, name: str) -> bool:
    """Whether ``cls`` or one of its bases defines the attribute ``name`` (asked once per class and name)."""
    return any(name in vars(base) for base in cls.__mro__)


def job_settings(job: Any, where: str = "") -> JobSettings:
    """The job's retry/timeout settings; a missing or ``None`` attribute (or a 0 timeout) means the default.

    Only attributes the job defines (on itself or its class) count: one a proxy answers through ``__getattr__``
    (e.g. a ``unittest.mock.Mock`` job, as 1.x's tests use) is missing.
    """
    values = []
    for name, default, kind in (("retry_count", DEFAULT_RETRY_COUNT, int),
                                ("retry_pause_sec", DEFAULT_RETRY_PAUSE_SEC, int | float),
                                ("execution_timeout_sec", DEFAULT_EXECUTION_TIMEOUT_SEC, int | float)):
        defined = name in getattr(job, "__dict__", {}) or _class_defines(type(job), name)
        value = getattr(job, name, None) if defined else None
        if value is None or (name == "execution_timeout_sec" and value == 0):
            value = default
        if isinstance(value, bool) or not isinstance(value, kind) or value < 0:
            expected = "an integer" if kind is int else "a number"
            raise InvalidWorkflowError(f"{where}{': ' if where else ''}job {job.id!r}: {name} must be {expected} >= 0, "
                                       f"got {value!r}")
        values.append(value)
    return JobSettings(*values)


# -- graphs ------------------------------------------------------------------------------------------


class JobGraph:
    """A validated job graph: jobs by id, their upstream and downstream job ids, a topological order.

    ``job_ids`` and ``jobs`` are in topological order, the one BigFlow 1.x ran jobs in (depth-first from the jobs
    declared first: a job comes as soon as its upstream jobs did).
    """

    def __init__(self, jobs: Mapping[Any, Iterable[Any]] | Sequence[Any], where: str = "job graph") -> None:
        self.where = where
        self.by_id: dict[str, Any] = {}
        self._node_ids: dict[int, str] = {}  # id(node) -> its job id: a node met again is not checked again
        if isinstance(jobs, Mapping):
            edges = list(jobs.items())
        elif isinstance(jobs, list | tuple):
            repeated = [job_id for job_id, count in Counter(map(self._add, jobs)).items() if count > 1]
            if repeated:
                raise InvalidWorkflowError(f"{self.where}: job {repeated[0]!r} appears twice in the list")
            edges = [(job, [after]) for job, after in zip(jobs, jobs[1:], strict=False)] + [(j, []) for j in jobs[-1:]]
        else:
            raise InvalidWorkflowError(f"{self.where}: definition must be a list of jobs or a dict "
                                       f"{{job: [downstream jobs]}}, got {type(jobs).__name__}")
        downstream: dict[str, list[str]] = {}
        sources = []
        for job, after in edges:
            if isinstance(after, str) or not isinstance(after, Iterable):
                raise InvalidWorkflowError(f"{self.where}: the downstream jobs of {self._add(job)!r} must be a "
                                           f"list of jobs, got {after!r}")
            sources.append(self._add(job))
            targets = downstream.setdefault(sources[-1], [])
            for target in map(self._add, after):
                downstream.setdefault(target, [])
                if target not in targets:
                    targets.append(target)
        upstream: dict[str, list[str]] = {job_id: [] for job_id in self.by_id}
        for job_id, targets in downstream.items():
            for target in targets:
                upstream[target].append(job_id)
        self.downstream_ids = {job_id: tuple(targets) for job_id, targets in downstream.items()}
        self.upstream_ids = {job_id: tuple(sources) for job_id, sources in upstream.items()}
        self._check_acyclic()
        self.job_ids = self._depth_first_order(sources)
        self.jobs = tuple(self.by_id[job_id] for job_id in self.job_ids)

    def _add(self, node: Any) -> str:
        if id(node) in self._node_ids:  # the definition holds the node, so its id() is not reused meanwhile
            return self._node_ids[id(node)]
        job_id, job = job_node(node, self.where)
        known = self.by_id.setdefault(job_id, job)
        if known is not job:
            raise InvalidWorkflowError(f"{self.where}: duplicate job id {job_id!r} (two different jobs, "
                                       f"{type(known).__name__} and {type(job).__name__})")
        self._node_ids[id(node)] = job_id
        return job_id

    def _check_acyclic(self) -> None:
        """Kahn's algorithm: jobs that never become ready are on (or behind) a cycle, which is named."""
        waiting = {job_id: len(sources) for job_id, sources in self.upstream_ids.items()}
        ready = [job_id for job_id, count in waiting.items() if count == 0]
        for job_id in ready:  # grows while iterating
            for target in self.downstream_ids[job_id]:
                waiting[target] -= 1
                if waiting[target] == 0:
                    ready.append(target)
        if len(ready) < len(self.by_id):
            cycle = self._cycle(set(self.by_id) - set(ready))
            raise InvalidJobGraph(f"cycle in {self.where}: {' -> '.join(map(str, cycle))}")

    def _depth_first_order(self, sources: Iterable[str]) -> tuple[str, ...]:
        """1.x's order: walk down from each source in declaration order, noting each job's upstream jobs in the
        order the walk meets them; then each job comes right after its upstream jobs (recursively)."""
        met: dict[str, list[str]] = {}  # job -> its upstream jobs, in the order met
        for source in sources:
            if source in met:
                continue
            met[source] = []
            stack = [(source, iter(self.downstream_ids[source]))]
            while stack:
                job_id, targets = stack[-1]
                target = next(targets, None)
                if target is None:
                    stack.pop()
                elif target in met:
                    met[target].append(job_id)
                else:
                    met[target] = [job_id]
                    stack.append((target, iter(self.downstream_ids[target])))
        order: list[str] = []
        placed: set[str] = set()
        for root in met:
            if root in placed:
                continue
            placed.add(root)
            stack = [(root, iter(met[root]))]
            while stack:
                job_id, sources_of = stack[-1]
                upstream = next(sources_of, None)
                if upstream is None:
                    stack.pop()
                    order.append(job_id)
                elif upstream not in placed:
                    placed.add(upstream)
                    stack.append((upstream, iter(met[upstream])))
        return tuple(order)

    def _cycle(self, blocked: set[str]) -> list[str]:
        """A cycle among jobs that never became ready, starting at the earliest declared one."""
        path: list[str] = []
        job_id = next(j for j in self.by_id if j in blocked)
        while job_id not in path:  # every blocked job has a blocked upstream job: walk upstream
            path.append(job_id)
            job_id = next(j for j in self.upstream_ids[job_id] if j in blocked)
        cycle = path[path.index(job_id):][::-1]
        names = list(self.by_id)
        start = min(range(len(cycle)), key=lambda i: names.index(cycle[i]))
        cycle = cycle[start:] + cycle[:start]
        return [*cycle, cycle[0]]

# -- workflows ---------------------------------------------------------------------------------------


class Workflow(LegacyWorkflow):
    """A named graph of jobs with a schedule; see the module docstring for what is validated."""

    def __init__(
        self,
        workflow_id: str,
        definition: Definition | Mapping[Any, Iterable[Any]] | Sequence[Any],
        schedule_interval: str | timedelta | None = DEFAULT_SCHEDULE_INTERVAL,
        start_time_factory: Callable[[datetime], datetime] = daily_start_time,
        depends_on_past: bool = True,
        secrets: Iterable[str] = (),
        env_variable: str = "env",
        *,
        description: str | None = None,
        doc: str | None = None,
        tags: Sequence[str] = (),
        owner: str | None = None,
        catchup: bool = False,
        max_active_runs: int = 1,
        **options: Any,
    ) -> None:
        """Extra keyword ``options`` are kept in ``self.options`` for plugins (e.g. DAG generators)."""
        self.workflow_id = check_workflow_id(workflow_id)
        where = f"workflow {workflow_id!r}"
        self.definition = definition
        self.graph = definition.graph if isinstance(definition, Definition) else JobGraph(definition, where)
        for job in self.graph.jobs:
            job_settings(job, where)
        self.schedule_interval = schedule_interval
        if not callable(start_time_factory):
            raise InvalidWorkflowError(f"{where}: start_time_factory must be callable, got {start_time_factory!r}")
        self.start_time_factory = start_time_factory
        self.depends_on_past = bool(depends_on_past)
        self.secrets = tuple([secrets] if isinstance(secrets, str) else secrets)
        for name in self.secrets:
            ids.secret_names(name, where)
        self.env_variable = env_variable
        if description is not None and doc is not None and description != doc:
            raise InvalidWorkflowError(f"{where}: give description or doc, not both")
        self.description = description if description is not None else doc
        if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
            raise InvalidWorkflowError(f"{where}: tags must be a list of strings, got {tags!r}")
        self.tags = tuple(ids.check_tag(tag, where) for tag in tags)
        self.owner = owner
        self.catchup = bool(catchup)
        if isinstance(max_active_runs, bool) or not isinstance(max_active_runs, int) or max_active_runs < 1:
            raise InvalidWorkflowError(f"{where}: max_active_runs must be an integer >= 1, got {max_active_runs!r}")
        self.max_active_runs = max_active_runs
        schedules.parse(self.schedule_interval, workflow_id, max_active_runs)  # '@continuous' needs one run
        self.options = options

    def __repr__(self) -> str:
        return f"Workflow({self.workflow_id!r}, jobs={list(self.job_ids)!r})"

    @property
    def doc(self) -> str | None:
        """Alias of ``description``."""
        return self.description

    @property
    def jobs(self) -> list[Any]:
        """The jobs in topological order."""
        return list(self.graph.jobs)

    @property
    def job_ids(self) -> list[str]:
        """The job ids in topological order."""
        return list(self.graph.job_ids)

    @property
    def dependencies(self) -> dict[str, list[str]]:
        """``{job_id: [upstream job ids]}`` for every job, in topological order."""
        return {job_id: list(self.graph.upstream_ids[job_id]) for job_id in self.graph.job_ids}

    def upstream(self, job_id: str) -> list[str]:
        """Ids of the jobs that must succeed before ``job_id`` runs."""
        return list(self.graph.upstream_ids[self.find_job(job_id).id])

    def downstream(self, job_id: str) -> list[str]:
        """Ids of the jobs that wait for ``job_id``."""
        return list(self.graph.downstream_ids[self.find_job(job_id).id])

    def find_job(self, job_id: str) -> Any:
        """The job with this id; the error names the nearest job id."""
        job = self.graph.by_id.get(job_id)
        if job is None:
            close = difflib.get_close_matches(str(job_id), self.job_ids, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"jobs: {', '.join(self.job_ids)}"
            raise UnknownNameError(f"unknown job {job_id!r} in workflow {self.workflow_id!r}; {hint}")
        return job

    def run(self, runtime: str | date | datetime | None = None, *, env: str | None = None,
            config: Mapping[str, Any] | Config | None = None) -> RunReport:
        """Run every job in graph order, one at a time, with retries; re-raises the first job error.

        Retries wait ``retry_pause_sec`` (60 s for a ``Job`` by default) between attempts.
        """
        from bigflow.executor import run_workflow

        return run_workflow(self, runtime=runtime, env=env, config=config).raise_for_failure()

    def run_job(self, job_id: str, runtime: str | date | datetime | None = None, *, env: str | None = None,
                config: Mapping[str, Any] | Config | None = None) -> RunReport:
        """Run one job (not its dependencies), with retries; re-raises its error."""
        from bigflow.executor import run_workflow

        return run_workflow(self, runtime=runtime, env=env, config=config, only_job=job_id).raise_for_failure()
