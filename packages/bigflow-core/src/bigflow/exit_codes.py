"""The exit codes of every ``bigflow`` command: one table, listed in the CLI reference (docs/cli.md).

An error's class carries its code (``bigflow.errors``); the CLI's entry point (``bigflow.cli.run_cli``) turns
every error into one line on stderr and this code.
"""

from __future__ import annotations

OK = 0
FAILED = 1
USAGE = 2
PLUGIN = 3
REFUSED = 4
INTERRUPTED = 130

#: (code, meaning), in the order the CLI reference lists them.
TABLE: tuple[tuple[int, str], ...] = (
    (OK, "Success."),
    (FAILED, "The work failed: a job, a build, a deploy step, a module of the project that does not import, "
             "a configuration value that is wrong."),
    (USAGE, "Bad usage: an unknown command or option, a bad option value, an unknown name (workflow, job, "
            "environment, configuration key, artifact builder, deploy target, plugin named in "
            "BIGFLOW_LOAD_PLUGINS or BIGFLOW_DISABLE_PLUGINS, ...); the message names the nearest valid one."),
    (PLUGIN, "A plugin problem: a required plugin is missing, broken, incompatible or conflicts with another."),
    (REFUSED, "A deploy was refused: a protected environment without confirmation, or another deploy holds "
              "the lock."),
    (INTERRUPTED, "Interrupted (Ctrl-C, SIGINT)."),
)
