"""Starter content for ``bigflow start-project``: a Beam word-count workflow, its sample data and its test."""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any

_HERE = Path(__file__).parent


class BeamStarter:
    """Contributes ``<package>/beam_workflow.py``, ``<package>/data/beam_words.txt`` and a test."""

    def files(self, context: dict[str, Any]) -> dict[str, str]:
        package = context["package"]
        values = {"package": package}
        return {
            f"{package}/beam_workflow.py": Template((_HERE / "beam_workflow.py.tmpl").read_text()).substitute(values),
            f"{package}/data/beam_words.txt": (_HERE / "beam_words.txt").read_text(),
            "tests/test_beam_workflow.py": Template((_HERE / "test_beam_workflow.py.tmpl").read_text())
            .substitute(values),
        }

    def environment_settings(self, context: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """``local`` runs Beam in-process; other environments get Dataflow locations when a GCP project is known.
        ``rehearsal`` (prod's settings otherwise) runs in-process in the image, offline: its input is the sample the
        package ships (prod's ``gs://`` keys are left out) and its output goes under ``/tmp`` in the container."""
        settings: dict[str, dict[str, Any]] = {
            "local": {"beam_runner": "local"},
            "rehearsal": {"beam_runner": "local", "temp_location": None, "wordcount_input": None,
                          "wordcount_output": "/tmp/bigflow-output/beam_wordcount/counts"}}
        project = context.get("gcp_project")
        for env in context.get("environments", []):
            if env != "local" and project:
                bucket = f"gs://{project}-dataflow"
                settings[env] = {"temp_location": f"{bucket}/tmp",
                                 "wordcount_input": f"{bucket}/beam_wordcount/input.txt",
                                 "wordcount_output": f"{bucket}/beam_wordcount/{env}/counts"}
        return settings
