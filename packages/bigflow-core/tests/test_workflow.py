"""The 1.x-compatible workflow model: jobs, contexts, graphs, validation and start-time factories."""

import re
import time
from datetime import date, datetime, timedelta
from types import MappingProxyType

import pytest

from bigflow.configuration import Config
from bigflow.errors import BigflowError
from bigflow.workflow import (
    DEFAULT_RETRY_COUNT,
    Definition,
    InvalidJobGraph,
    InvalidWorkflowError,
    Job,
    JobContext,
    JobLike,
    Workflow,
    WorkflowJob,
    daily_start_time,
    hourly_start_time,
    job_settings,
)


class Recorder:
    """A duck-typed job (no bigflow base class) that records the contexts it ran with."""

    def __init__(self, id, log=None, fail_times=0):
        self.id = id
        self.log = [] if log is None else log
        self.fail_times = fail_times
        self.retry_count = 0
        self.retry_pause_sec = 0
        self.contexts = []

    def execute(self, context):
        self.contexts.append(context)
        self.log.append(self.id)
        if len(self.contexts) <= self.fail_times:
            raise ConnectionError(f"{self.id} failed")
        return self.id.upper()


def jobs(*ids, log=None):
    shared = [] if log is None else log
    return [Recorder(job_id, shared) for job_id in ids]


# -- 1.x examples ----------------------------------------------------------------------------------


def test_hello_world_workflow_from_the_1x_docs(capsys):
    class HelloWorldJob(Job):
        id = "hello_world"

        def execute(self, context: JobContext):
            print(f"Hello world on {context.runtime}!")

    workflow = Workflow(workflow_id="hello_world_workflow", definition=[HelloWorldJob()])
    workflow.run(datetime(2024, 5, 1, 10))

    assert capsys.readouterr().out == "Hello world on 2024-05-01 10:00:00!\n"
    assert workflow.schedule_interval == "@daily"
    assert workflow.start_time_factory is daily_start_time
    assert workflow.depends_on_past is True


def test_graph_workflow_with_definition_runs_in_dependency_order():
    log = []
    job1, job2, job3, job4, job5 = jobs("job1", "job2", "job3", "job4", "job5", log=log)
    workflow = Workflow(
        workflow_id="graph_workflow",
        definition=Definition({job1: (job2, job3), job2: (job4,), job3: (job4,), job4: (job5,)}),
        schedule_interval="0 1 * * *",
    )

    workflow.run(datetime(2024, 1, 1))

    assert log == ["job1", "job2", "job3", "job4", "job5"]
    assert workflow.job_ids == ["job1", "job2", "job3", "job4", "job5"]
    assert workflow.dependencies == {"job1": [], "job2": ["job1"], "job3": ["job1"], "job4": ["job2", "job3"],
                                     "job5": ["job4"]}
    assert workflow.upstream("job4") == ["job2", "job3"]
    assert workflow.downstream("job1") == ["job2", "job3"]
    assert [job.id for job in workflow.jobs] == workflow.job_ids
    assert workflow.definition.sequential_order()[3].job is job4


def test_dict_definition_is_accepted_directly_and_order_is_stable():
    a, b, c, d = jobs("a", "b", "c", "d")
    workflow = Workflow("wf", {d: [], a: [c], b: [c]})
    assert workflow.job_ids == ["d", "a", "b", "c"]


def test_list_definition_is_a_chain():
    a, b, c = jobs("a", "b", "c")
    workflow = Workflow("chain", [a, b, c])
    assert workflow.dependencies == {"a": [], "b": ["a"], "c": ["b"]}


def test_run_job_runs_only_that_job():
    log = []
    a, b = jobs("a", "b", log=log)
    workflow = Workflow("wf", [a, b])

    report = workflow.run_job("b", datetime(2024, 1, 2))

    assert log == ["b"]
    assert report["b"].value == "B"
    assert b.contexts[0].workflow is workflow


def test_find_job_and_its_error_names_the_nearest_job():
    a, b = jobs("extract", "load")
    workflow = Workflow("wf", [a, b])
    assert workflow.find_job("load") is b
    with pytest.raises(BigflowError, match=r"^unknown job 'lod' in workflow 'wf'; did you mean 'load'\?$"):
        workflow.find_job("lod")
    with pytest.raises(BigflowError, match=r"jobs: extract, load$"):
        workflow.upstream("zzz")


def test_workflow_run_reraises_the_job_error_after_retries():
    job = Recorder("flaky", fail_times=5)
    job.retry_count = 2
    with pytest.raises(ConnectionError, match="flaky failed"):
        Workflow("wf", [job]).run(datetime(2024, 1, 1))
    assert len(job.contexts) == 3


def test_workflow_run_retries_until_success():
    job = Recorder("flaky", fail_times=2)
    job.retry_count = 2
    report = Workflow("wf", [job]).run(datetime(2024, 1, 1))
    assert report.ok and report["flaky"].attempts == 3


def test_1x_graph_helpers_wrap_jobs():
    a, b = jobs("a", "b")
    workflow = Workflow("wf", [a, b])
    order = workflow.build_sequential_order()
    assert [(w.id, w.job) for w in order] == [("a", a), ("b", b)]
    assert isinstance(order[0], WorkflowJob) and order[0].retry_count == 0
    seen = []
    workflow.call_on_graph_nodes(lambda job, upstream: seen.append((job.id, [u.id for u in upstream])))
    assert seen == [("a", []), ("b", ["a"])]


# -- jobs ---------------------------------------------------------------------------------------------


def test_job_defaults_and_init_overrides():
    class Plain(Job):
        id = "plain"

        def execute(self, context):
            return None

    plain = Plain()
    assert (plain.id, plain.retry_count, plain.retry_pause_sec, plain.execution_timeout_sec) == \
        ("plain", 3, 60, 10800)
    custom = Plain(id="custom", execution_timeout_sec=5, retry_count=1, retry_pause_sec=2)
    assert (custom.id, custom.retry_count, custom.retry_pause_sec, custom.execution_timeout_sec) == \
        ("custom", 1, 2, 5)
    assert isinstance(custom, JobLike) and isinstance(Recorder("x"), JobLike)


def test_duck_typed_job_gets_job_defaults():
    class Bare:
        id = "bare"

        def execute(self, context):
            return None

    assert tuple(job_settings(Bare())) == (3, 60, 10800)


def test_legacy_job_with_only_run_is_called_with_runtime_str():
    class Legacy:
        id = "legacy"
        retry_count = 0

        def __init__(self):
            self.calls = []

        def run(self, runtime_str):
            self.calls.append(runtime_str)

    job = Legacy()
    with pytest.warns(DeprecationWarning, match="run\\(runtime_str\\)"):
        Workflow("wf", [job]).run(datetime(2024, 3, 4, 5, 6, 7))
    assert job.calls == ["2024-03-04 05:06:07"]


def test_job_run_is_deprecated_and_calls_execute():
    class Echo(Job):
        id = "echo"

        def execute(self, context):
            return context.runtime_str

    with pytest.warns(DeprecationWarning, match="Job.run is deprecated"):
        assert Echo().run(datetime(2024, 1, 1, 2, 3, 4)) == "2024-01-01 02:03:04"


# -- JobContext ---------------------------------------------------------------------------------------


def test_job_context_fields(monkeypatch):
    monkeypatch.delenv("bf_env", raising=False)
    workflow = Workflow("wf", jobs("a"))
    context = JobContext.make(runtime=datetime(2024, 1, 2, 3, 4, 5), workflow=workflow, env="dev",
                              config={"x": 1}, run_id="r1")
    assert context.runtime == datetime(2024, 1, 2, 3, 4, 5)
    assert context.runtime_str == "2024-01-02 03:04:05"
    assert (context.workflow, context.workflow_id, context.env, context.run_id) == (workflow, "wf", "dev", "r1")
    assert context.config == {"x": 1}
    with pytest.raises(TypeError):
        context.config["x"] = 2  # immutable
    with pytest.raises(AttributeError):
        context.env = "prod"


def test_job_context_runtime_conversions():
    with pytest.warns(DeprecationWarning, match="str runtime"):
        context = JobContext.make(runtime="2024-01-02")
    assert (context.runtime, context.runtime_str) == (datetime(2024, 1, 2), "2024-01-02")  # as written, like 1.x
    assert JobContext.make(runtime=date(2024, 1, 2)).runtime_str == "2024-01-02 00:00:00"
    before = datetime.now().replace(microsecond=0)
    assert before <= JobContext.make().runtime <= datetime.now()
    with pytest.warns(DeprecationWarning), pytest.raises(BigflowError, match="runtime is 'yesterday', not a time"):
        JobContext.make(runtime="yesterday")


def test_job_context_run_id_is_generated_per_context():
    first, second = JobContext.make(), JobContext.make()
    assert len(first.run_id) == 12 and first.run_id != second.run_id


def test_job_context_rejects_mismatched_workflow_id():
    with pytest.raises(BigflowError, match="workflow_id 'other' does not match workflow 'wf'"):
        JobContext.make(workflow=Workflow("wf", jobs("a")), workflow_id="other")


def test_job_context_env_is_the_default_env_of_a_config(monkeypatch):
    """1.x left env None when no bf_env was set, although the Config resolved its default environment."""
    monkeypatch.delenv("bf_env", raising=False)
    config = Config("dev", {"table": "{env}_dataset.t"}).add_configuration("prod", {})

    context = JobContext.make(config=config)

    assert context.env == "dev"
    assert context.config == {"table": "dev_dataset.t", "env": "dev"}
    assert isinstance(context.config, MappingProxyType)


def test_job_context_env_from_resolved_mapping_then_bf_env(monkeypatch):
    monkeypatch.setenv("bf_env", "prod")
    assert JobContext.make(config={"env": "dev"}).env == "dev"
    assert JobContext.make().env == "prod"
    assert JobContext.make(env="test").env == "test"


def test_workflow_run_fills_env_from_config(monkeypatch):
    monkeypatch.delenv("bf_env", raising=False)
    job = Recorder("a")
    Workflow("wf", [job]).run(datetime(2024, 1, 1), config=Config("dev", {"k": "v"}))
    assert job.contexts[0].env == "dev" and job.contexts[0].config["k"] == "v"


# -- options ------------------------------------------------------------------------------------------


def test_workflow_keeps_options():
    workflow = Workflow("wf", jobs("a"), schedule_interval=None, secrets=["bf_db_password"], env_variable="my_env",
                        doc="Loads things.", tags=["team-a"], owner="data", catchup=True, max_active_runs=2,
                        pool="small")
    assert (workflow.description, workflow.doc, workflow.tags, workflow.owner) == \
        ("Loads things.", "Loads things.", ("team-a",), "data")
    assert (workflow.catchup, workflow.max_active_runs, workflow.secrets, workflow.env_variable) == \
        (True, 2, ("bf_db_password",), "my_env")
    assert workflow.options == {"pool": "small"} and workflow.schedule_interval is None


# -- validation ---------------------------------------------------------------------------------------


def test_cycle_is_named():
    a, b, c, d = jobs("a", "b", "c", "d")
    with pytest.raises(InvalidJobGraph, match=r"^cycle in workflow 'wf': a -> b -> c -> a$"):
        Workflow("wf", {d: [a], a: [b], b: [c], c: [a]})


def test_a_1x_definition_is_checked_when_built():
    a, b = jobs("a", "b")
    with pytest.raises(InvalidJobGraph, match=r"^cycle in job graph: a -> b -> a$") as error:
        Definition({a: [b], b: [a]})
    assert isinstance(error.value, InvalidWorkflowError) and isinstance(error.value, BigflowError)


def test_self_loop_is_a_cycle():
    (a,) = jobs("a")
    with pytest.raises(InvalidWorkflowError, match=r"cycle in workflow 'wf': a -> a$"):
        Workflow("wf", {a: [a]})


def test_duplicate_job_ids():
    first, second = Recorder("same"), Recorder("same")
    with pytest.raises(InvalidWorkflowError, match=r"^workflow 'wf': duplicate job id 'same' \(two different jobs"):
        Workflow("wf", {first: [], second: []})
    with pytest.raises(InvalidWorkflowError, match=r"^workflow 'wf': job 'same' appears twice in the list$"):
        Workflow("wf", [first, first])


@pytest.mark.parametrize(("job_id", "message"), [
    ("extract.data", r"invalid job id 'extract\.data': use only letters, digits, '_' and '-' .*; e\.g\. 'extract_data'$"),
    ("x" * 251, r"job id 'x+'\.\.\. is longer than 250 characters$"),
    ("", r"job id must be a non-empty string, got ''$"),
    (None, r"job id must be a non-empty string, got None$"),
])
def test_invalid_job_ids(job_id, message):
    with pytest.raises(InvalidWorkflowError, match=r"^workflow 'wf': " + message):
        Workflow("wf", [Recorder(job_id)])


@pytest.mark.parametrize(("job_id", "message"), [
    ("first job", r"^workflow 'wf': invalid job id 'first job'.*e\.g\. 'first_job' \(bigflow run accepts it as 1\.x did; "
                  r"bigflow build dags refuses it\)$"),
    (7, r"^workflow 'wf': job id must be a non-empty string, got 7 \(bigflow run accepts it"),
])
def test_job_ids_airflow_refuses_but_1x_accepted_are_a_warning(job_id, message):
    job = Recorder(job_id)
    with pytest.warns(UserWarning, match=message):
        workflow = Workflow("wf", [job])
    assert workflow.find_job(job_id) is job


def test_a_job_id_airflow_refuses_runs_locally():
    job = Recorder("first job")
    with pytest.warns(UserWarning):
        workflow = Workflow("wf", [job])
    workflow.run_job("first job", datetime(2024, 1, 1))
    assert job.contexts[0].runtime == datetime(2024, 1, 1)


def test_a_workflow_without_jobs_is_allowed_as_in_1x():
    assert Workflow("wf", [], schedule_interval="@hourly").job_ids == []


def test_settings_a_proxy_answers_through_getattr_are_ignored():
    from unittest import mock

    job = mock.Mock(id="a")
    workflow = Workflow("wf", [job])
    assert workflow.build_sequential_order()[0].retry_count == DEFAULT_RETRY_COUNT
    workflow.run(datetime(2024, 1, 1))
    job.execute.assert_called_once()


def test_job_id_may_use_dash_and_underscore():
    assert Workflow("wf", [Recorder("load-daily_v2")]).job_ids == ["load-daily_v2"]


@pytest.mark.parametrize("workflow_id", ["my wf", "wf/1", "é", "w" * 251])
def test_invalid_workflow_ids(workflow_id):
    with pytest.raises(InvalidWorkflowError, match=r"workflow id"):
        Workflow(workflow_id, jobs("a"))


def test_workflow_id_may_contain_dots():
    assert Workflow("team.daily-load_1", jobs("a")).workflow_id == "team.daily-load_1"


@pytest.mark.parametrize(("definition", "message"), [
    (5, r"^workflow 'wf': definition must be a list of jobs or a dict \{job: \[downstream jobs\]\}, got int$"),
])
def test_invalid_definitions(definition, message):
    with pytest.raises(InvalidWorkflowError, match=message):
        Workflow("wf", definition)


def test_downstream_must_be_a_list():
    a, b = jobs("a", "b")
    with pytest.raises(InvalidWorkflowError, match=r"the downstream jobs of 'a' must be a list of jobs"):
        Workflow("wf", {a: b})


def test_job_without_execute():
    class NotAJob:
        id = "nope"

    with pytest.raises(InvalidWorkflowError, match=r"job 'nope' has no execute\(context\) method$"):
        Workflow("wf", [NotAJob()])


@pytest.mark.parametrize(("attribute", "value", "expected"), [
    ("retry_count", -1, "an integer"), ("retry_count", 2.0, "an integer"), ("retry_pause_sec", "soon", "a number"),
    ("execution_timeout_sec", True, "a number"),
])
def test_invalid_retry_settings(attribute, value, expected):
    job = Recorder("a")
    setattr(job, attribute, value)
    with pytest.raises(InvalidWorkflowError,
                       match=rf"^workflow 'wf': job 'a': {attribute} must be {expected} >= 0, got {value!r}$"):
        Workflow("wf", [job])


@pytest.mark.parametrize("schedule", [
    None, "@once", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@continuous",
    timedelta(hours=6), "0 1 * * *", "*/15 * * * *", "0 0-23/2 * * *", "5,35 8-18 * * MON-FRI", "0 0 1 JAN,jul *",
    "0 12 ? * SUN", "0 0 L * *", "0 0 * * MON#2", "0 0 * * 7", "30 4 1-15/5 * 1-5", "@midnight", "@annually",
])
def test_valid_schedules(schedule):
    assert Workflow("wf", jobs("a"), schedule_interval=schedule).schedule_interval == schedule


@pytest.mark.parametrize(("schedule", "message"), [
    ("@daly", r"unknown preset; did you mean '@daily'\?$"),
    ("@every_day", r"unknown preset; presets are @once, @hourly, @daily"),
    ("0 0 * * 5L", r"day-of-week field '5L': '5L' is not a number or a name \(SUN, MON"),  # Airflow refuses it
    ("0 22-2 * * *", r"hour field '22-2': range '22-2' goes backwards$"),
    (timedelta(seconds=1.5), r"a timedelta schedule must be a whole number of seconds$"),
    ("0 25 * * *", r"hour field '25': 25 is out of range 0-23$"),
    ("60 * * * *", r"minute field '60': 60 is out of range 0-59$"),
    ("0 0 0 * *", r"day-of-month field '0': 0 is out of range 1-31$"),
    ("0 0 * 13 *", r"month field '13': 13 is out of range 1-12$"),
    ("0 0 * * 8", r"day-of-week field '8': 8 is out of range 0-7$"),
    ("0 0 * JANUARY *", r"month field 'JANUARY': 'JANUARY' is not a number or a name \(JAN, FEB"),
    ("0 0 * * FRI-MON", r"day-of-week field 'FRI-MON': range 'FRI-MON' goes backwards$"),
    ("*/0 * * * *", r"minute field '\*/0': step '0' must be a number >= 1$"),
    ("1,,2 * * * *", r"minute field '1,,2': '' is not a number$"),
    ("0 0 * * MON#6", r"day-of-week field 'MON#6': the week number after '#' must be 1-5, got '6'$"),
    ("* * * *", r"a cron expression has 5 fields \(minute hour day-of-month month day-of-week\), got 4$"),
    ("0 0 * * * 2024", r"a cron expression has 5 fields .*, got 6$"),
    (timedelta(0), r"a timedelta schedule must be positive$"),
    (60, r"use a preset, a cron expression, a timedelta or None$"),
])
def test_invalid_schedules(schedule, message):
    prefix = f"^workflow 'wf': invalid schedule_interval {re.escape(repr(schedule))}: "
    with pytest.raises(InvalidWorkflowError, match=prefix + message):
        Workflow("wf", jobs("a"), schedule_interval=schedule)


@pytest.mark.parametrize(("options", "message"), [
    ({"max_active_runs": 0}, r"max_active_runs must be an integer >= 1, got 0$"),
    ({"tags": "daily"}, r"tags must be a list of strings, got 'daily'$"),
    ({"secrets": ["bf-db"]}, r"secret 'bf-db' must be an environment variable name"),
    ({"secrets": ["S" * 70]}, r"secret 'S{70}' gives the Kubernetes secret name 's{70}', which Kubernetes rejects"),
    ({"tags": ["t" * 101]}, r"tag 't{40}'... is longer than the 100 characters Airflow allows$"),
    ({"schedule_interval": "@continuous", "max_active_runs": 2},
     r"invalid schedule_interval '@continuous': '@continuous' needs max_active_runs=1"),
    ({"description": "a", "doc": "b"}, r"give description or doc, not both$"),
    ({"start_time_factory": "daily"}, r"start_time_factory must be callable"),
])
def test_invalid_workflow_options(options, message):
    with pytest.raises(InvalidWorkflowError, match=r"^workflow 'wf': " + message):
        Workflow("wf", jobs("a"), **options)


# -- start time factories -----------------------------------------------------------------------------


def test_daily_start_time_is_previous_midnight():
    assert daily_start_time(datetime(2024, 5, 1, 10, 30, 15, 99)) == datetime(2024, 4, 30)


@pytest.fixture
def local_timezone(monkeypatch):
    def set_zone(zone):
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC-2", datetime(2024, 5, 1, 8)),   # POSIX sign: local time is UTC+2
    ("UTC+5", datetime(2024, 5, 1, 15)),  # a negative offset (1.x got these wrong)
    ("UTC0", datetime(2024, 5, 1, 10)),
])
def test_hourly_start_time_converts_local_time_to_utc(local_timezone, zone, expected):
    local_timezone(zone)
    assert hourly_start_time(datetime(2024, 5, 1, 10, 0, 0, 500)) == expected


def test_jobs_run_in_1x_order_each_right_after_its_upstream_jobs():
    a, b, c, d, e, f, g, h, i = jobs(*"abcdefghi")
    workflow = Workflow("wf", {a: [e, f, g], b: [f], c: [f], d: [g], g: [h], e: [i], f: [i]})
    assert workflow.job_ids == ["a", "e", "b", "c", "f", "i", "d", "g", "h"]  # i right after its last upstream f
    long_chain = jobs(*(f"j{i}" for i in range(3000)))  # no recursion limit
    assert Workflow("chain", long_chain).job_ids[-1] == "j2999"
