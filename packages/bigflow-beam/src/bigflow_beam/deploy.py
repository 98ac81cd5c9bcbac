"""Deploy target ``dataflow-streaming``: start, update in place, or drain and replace the project's streaming jobs.

For each ``BeamStreamingJob`` of the project, ``plan`` looks up the active Dataflow job of the same (stable) name:

- none: start a new job;
- one running, and every step of it is still in the new pipeline (or renamed by ``transform_name_mapping``):
  update it in place (a new job that replaces it, keeping its state);
- one running whose steps are gone: drain it (it finishes the data in flight), then start a new job;
- one already draining or cancelling: wait for it to stop, then start a new job.

``dataflow_streaming_redeploy = "update" | "drain"`` in an environment forces one strategy (default ``auto``);
``dataflow_drain_timeout_sec`` (default 1800) and ``dataflow_drain_poll_sec`` (10) pace the wait for a drain.
The Dataflow API is reached through ``bigflow_beam.dataflow.DataflowApi``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bigflow.api import BigflowError, Environment, Manifest, Plan
from bigflow_beam.dataflow import STOPPING, DataflowApi

NAME = "dataflow-streaming"
STRATEGIES = ("auto", "update", "drain")


@dataclass
class Decision:
    """What deploying one streaming job does."""

    name: str
    action: str  # "start", "update", "replace" (drain, then start) or "wait" (for a stopping job, then start)
    job: Any  # the apiclient.Job to submit
    running: Any = None  # the active Dataflow job of the same name
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.action == "start":
            return f"{self.name}: start a new streaming job"
        if self.action == "update":
            return f"{self.name}: update running job {self.running.id} in place"
        if self.action == "replace":
            return f"{self.name}: drain job {self.running.id}, then start a new job"
        state = self.running.current_state.name.removeprefix("JOB_STATE_").lower()
        return f"{self.name}: job {self.running.id} is {state}; start a new job once it has stopped"


class DataflowStreamingTarget:
    """See the module docstring."""

    options = ()

    def plan(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        plan, decisions, _ = self._decide(project, env)
        for decision in decisions:
            (plan.add if decision.action == "start" else plan.change).append(decision.describe())
            plan.notes.extend(decision.notes)
        return plan

    def deploy(self, project: Any, manifest: Manifest, env: Environment, options: Mapping[str, Any]) -> Plan:
        plan, decisions, api = self._decide(project, env)
        for decision in decisions:
            if decision.action == "replace":
                api.drain(decision.running)
            if decision.action in ("replace", "wait"):
                api.wait_stopped(decision.running, time.sleep, api.config.float("dataflow_drain_poll_sec", 10),
                                 api.config.float("dataflow_drain_timeout_sec", 1800))
            if decision.action == "update":
                decision.job.proto.replace_job_id = decision.running.id
            created = api.submit(decision.job)
            line = f"{decision.describe()}: job {created.id}"
            (plan.add if decision.action == "start" else plan.change).append(line)
            plan.notes.append(api.console_url(created.id))
        return plan

    # -- deciding --------------------------------------------------------------------------------

    def _decide(self, project: Any, config: Environment) -> tuple[Plan, list[Decision], DataflowApi | None]:
        from bigflow.api import JobContext
        from bigflow_beam.runners import DATAFLOW, choose_runner
        from bigflow_beam.streaming import BeamStreamingJob

        plan = Plan(NAME)
        env = config.name
        found = [(workflow, job) for workflow in project.finder.all() for job in workflow.jobs
                 if isinstance(job, BeamStreamingJob)]
        if not found:
            plan.notes.append("no BeamStreamingJob in the project")
            return plan, [], None
        local = [job.id for _, job in found if choose_runner(config, env, job.pipeline_options, job.label) != DATAFLOW]
        if local:
            plan.notes.append(f"environment {env!r} runs streaming jobs on the local runner ({', '.join(local)}): "
                              "nothing to deploy")
            return plan, [], None
        strategy = config.str("dataflow_streaming_redeploy", "auto")
        if strategy not in STRATEGIES:
            raise BigflowError(f"dataflow_streaming_redeploy of environment {env!r} must be one of "
                               f"{', '.join(STRATEGIES)}, got {strategy!r}")
        api = DataflowApi(config, env)
        active = {job.name: job for job in api.jobs(active_only=True)}
        decisions = []
        for workflow, job in found:
            context = JobContext.make(runtime=datetime.now().replace(microsecond=0), workflow=workflow, env=env,
                                      config=config)
            dataflow_job = job.dataflow_job(context)
            for old, new in job.transform_name_mapping.items():
                dataflow_job.proto.transform_name_mapping[old] = new
            decisions.append(self._decision(api, dataflow_job, active.get(dataflow_job.proto.name), strategy,
                                            job.transform_name_mapping))
        return plan, decisions, api

    def _decision(self, api: DataflowApi, job: Any, running: Any, strategy: str, mapping: dict[str, str]) -> Decision:
        name = job.proto.name
        if running is None:
            return Decision(name, "start", job)
        if running.current_state.name in STOPPING:
            return Decision(name, "wait", job, running)
        if strategy != "auto":
            return Decision(name, "update" if strategy == "update" else "replace", job, running)
        new_steps = {t.unique_name for t in job.proto_pipeline.components.transforms.values()} | set(mapping)
        gone = sorted(api.step_names(running) - new_steps)
        if not gone:
            return Decision(name, "update", job, running)
        shown = ", ".join(gone[:5]) + (" ..." if len(gone) > 5 else "")
        return Decision(name, "replace", job, running, [
            f"{name}: steps of the running job are gone from the new pipeline ({shown}); map them with "
            "transform_name_mapping to update in place instead"])
