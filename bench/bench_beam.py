"""Benchmarks of bigflow-beam (stdlib only): the starter's word count run locally through BeamJob and
`bigflow run`, against the same pipeline run by hand on Beam's in-process runner.

Issue "bigflow-beam: Apache Beam jobs". BigFlow 1.x has no column here: the 1.11.3 baseline venv is installed
without 1.x's `dataflow` extra (Beam 2.60), so `bigflow.dataflow.BeamJob` cannot be imported there.
"""

from __future__ import annotations

import textwrap

from bench import BenchError, Context, benchmark, starter_project_script

PACKAGE = "beam_bench"
EXPECTED = ["a: 2", "brown: 1", "dog: 2", "fox: 3", "happy: 1", "is: 1", "jumps: 1", "lazy: 1", "over: 1",
            "quick: 2", "sleeps: 1", "the: 3"]
OVERHEAD_TARGET_S = 0.2  # BeamJob.execute over the same pipeline run by hand

WRITE_PROJECT = starter_project_script('bigflow_beam.starter:BeamStarter', 'beam_runner = "local"\n')

# The starter's job run through BeamJob.execute, without the CLI.
JOB_SCRIPT = textwrap.dedent('''\
    import sys
    from datetime import datetime

    from bigflow.workflow import JobContext

    from {package}.beam_workflow import workflow

    context = JobContext.make(runtime=datetime(2024, 5, 6), workflow=workflow, env="local",
                              config={{"wordcount_output": sys.argv[1]}})
    workflow.find_job("wordcount").execute(context)
''')

# The same pipeline run by hand on Beam's in-process runner: what a user would write without bigflow.
HAND_SCRIPT = textwrap.dedent('''\
    import sys

    import apache_beam as beam
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from {package}.beam_workflow import count_words


    class Context:
        config = {{"wordcount_output": sys.argv[1]}}


    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        count_words(pipeline, Context())
''')

# In one process, alternately: BeamJob.execute and the pipeline by hand, N times each; prints both medians.
IN_PROCESS_SCRIPT = textwrap.dedent('''\
    import statistics
    import sys
    import time
    from datetime import datetime

    import apache_beam as beam
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from bigflow.workflow import JobContext

    from {package}.beam_workflow import count_words, workflow

    out, runs = sys.argv[1], int(sys.argv[2])
    job = workflow.find_job("wordcount")
    context = JobContext.make(runtime=datetime(2024, 5, 6), workflow=workflow, env="local",
                              config={{"wordcount_output": out + "/job"}})


    class Hand:
        config = {{"wordcount_output": out + "/hand"}}


    def by_hand():
        with beam.Pipeline(runner=FnApiRunner()) as pipeline:
            count_words(pipeline, Hand())


    timings = {{"job": [], "hand": []}}
    for round_ in range(runs + 1):
        for name, run in (("job", lambda: job.execute(context)), ("hand", by_hand))[::1 if round_ % 2 else -1]:
            started = time.perf_counter()
            run()
            if round_:  # round 0 warms up
                timings[name].append(time.perf_counter() - started)
    print(statistics.median(timings["job"]), statistics.median(timings["hand"]))
''')


def _counts(path) -> list[str]:
    if not path.is_file():
        raise BenchError(f"{path} was not written")
    return sorted(path.read_text().splitlines())


@benchmark("beam-local", title="Beam word count (starter) on the local runner: BeamJob and bigflow run vs by hand")
def beam_local(ctx: Context) -> None:
    """Wall time of the bigflow-beam starter's word count (a small text file shipped with the starter) run
    locally, from process start to exit, three ways in the same venv: `bigflow run --workflow beam_wordcount`
    (CLI, plugin discovery, workflow import, BeamJob), `python job.py` (BeamJob.execute of the same job, no
    CLI), and `python hand.py` (the same pipeline function on Beam's in-process FnApiRunner, built by hand).
    BeamJob's overhead is `job.py` minus `hand.py` (target <= 0.2 s); as both pay Beam's ~1.5 s import, it is
    also measured inside one process, alternating the two, which removes start-up noise."""
    project = ctx.workdir("project")
    ctx.run([ctx.dev.python, "-c", WRITE_PROJECT, str(project), PACKAGE])
    (project / "job.py").write_text(JOB_SCRIPT.format(package=PACKAGE))
    (project / "hand.py").write_text(HAND_SCRIPT.format(package=PACKAGE))
    (project / "in_process.py").write_text(IN_PROCESS_SCRIPT.format(package=PACKAGE))
    out = project / "build" / "bench"
    env = {"PYTHONPATH": str(project)}
    rows = ctx.compare([
        ctx.cmd("bigflow run --workflow beam_wordcount", ctx.dev, "bigflow", "run", "--workflow",
                "beam_wordcount", "--log-format", "text", cwd=project),
        ctx.cmd("python job.py (BeamJob.execute)", ctx.dev, "python", "job.py", str(out / "job"), cwd=project,
                env=env),
        ctx.cmd("python hand.py (the pipeline by hand)", ctx.dev, "python", "hand.py", str(out / "hand"),
                cwd=project, env=env),
    ], need_baseline=False)
    medians = {row.cmd.label.split(" ")[1]: row.stats.median for row in rows if row.cmd.role != "floor"}
    ctx.check("all three wrote the same counts",
              _counts(project / "build" / "beam_wordcount" / "counts.txt") == _counts(out / "job.txt")
              == _counts(out / "hand.txt") == EXPECTED,
              "build/beam_wordcount/counts.txt, build/bench/job.txt, build/bench/hand.txt")
    process_overhead = medians["job.py"] - medians["hand.py"]
    runs = max(10, ctx.reps)
    job_s, hand_s = (float(x) for x in ctx.run([ctx.dev.python, "in_process.py", str(out), str(runs)],
                                                cwd=project, env=env).stdout.split())
    ctx.check(f"BeamJob overhead over the pipeline by hand <= {OVERHEAD_TARGET_S:g} s (in one process)",
              job_s - hand_s <= OVERHEAD_TARGET_S,
              f"median BeamJob.execute {job_s:.3f} s, by hand {hand_s:.3f} s ({runs} runs each, alternating): "
              f"{job_s - hand_s:+.3f} s; across processes (table): {process_overhead:+.3f} s")
    ctx.note(f"Local wall time of the example (`bigflow run`, whole process): median "
             f"{medians['run']:.2f} s. No BigFlow 1.x column: the 1.11.3 baseline venv has no apache-beam "
             "(1.x's `dataflow` extra, Beam 2.60, is not installed there), so 1.x's BeamJob cannot run in it.")
