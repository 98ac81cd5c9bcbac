"""``local``: Beam's DirectRunner minus its Prism attempt (imports Beam; loaded only to run a pipeline)."""

from __future__ import annotations

from apache_beam.runners.direct.direct_runner import SwitchingDirectRunner


class LocalRunner(SwitchingDirectRunner):
    """FnApiRunner for batch pipelines, BundleBasedDirectRunner for streaming ones; never Prism.

    SwitchingDirectRunner skips its Prism attempt for interactive runs, and that flag does nothing else;
    tests check that no Prism attempt is made.
    """

    _is_interactive = True
