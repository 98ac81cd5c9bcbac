"""The emulator a rehearsal's containers share (``bigflow airflow rehearse``; bigflow-airflow's hook
``start_rehearsal_services``).

The containers of a rehearsal run with the host's network. With ``bigquery_endpoint = "emulator"`` each would
start an emulator of its own, whose rows go with the container; the scaffold's ``rehearsal`` environment names
instead the project's emulator on a fixed port (``bigquery_endpoint = "http://127.0.0.1:PORT"`` and
``bigquery_emulator_port = PORT``, data in ``bigquery_emulator_dir``), which the rehearsal starts here when it
is not running, and which keeps running afterwards, so that ``bigflow bigquery query --config rehearsal``
reads what the jobs wrote.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bigflow.api import BigflowError, Environment
from bigflow_bigquery.settings import EMULATOR, Settings

LOCAL_HOSTS = ("127.0.0.1", "localhost")


def own_emulator(settings: Settings) -> bool:
    """Whether ``bigquery_endpoint`` is the URL of the emulator ``bigquery_emulator_port`` makes the plugin start on
    this machine (then ``bigflow bigquery emulator start --config ENV`` starts it)."""
    url = urlsplit(settings.endpoint)
    return (url.scheme == "http" and url.hostname in LOCAL_HOSTS and settings.emulator_port is not None
            and url.port == settings.emulator_port)


def start_rehearsal_emulator(environment: Environment) -> str | None:
    """Start the environment's own emulator unless it runs; a line saying where it runs (None: the environment names
    no emulator of this machine). Another emulator on its port is an error: its rows would go elsewhere."""
    from bigflow_bigquery.emulator import ProjectEmulator, healthy
    from bigflow_bigquery.engine import emulator_dir

    settings = Settings.from_config(environment, environment.name)
    if settings.endpoint == EMULATOR:
        return (f"warning: bigquery_endpoint = \"emulator\" in environment {settings.env!r}: each container starts "
                "an emulator of its own, and its rows go with it; to share one, set bigquery_endpoint = "
                "\"http://127.0.0.1:PORT\" and bigquery_emulator_port = PORT")
    if not own_emulator(settings):
        return None
    emulator = ProjectEmulator(emulator_dir(settings))
    if emulator.running() is None and healthy(settings.endpoint):
        raise BigflowError(f"a BigQuery emulator answers at {settings.endpoint} (bigquery_endpoint of environment "
                           f"{settings.env!r}), but not this project's (data in {emulator.data_dir}): stop it, or "
                           "give the environment another port (bigquery_endpoint and bigquery_emulator_port)")
    running, started = emulator.start_detached(port=settings.emulator_port)
    if running.url != f"http://127.0.0.1:{settings.emulator_port}":
        raise BigflowError(f"the BigQuery emulator of {emulator.data_dir} runs at {running.url}, not at "
                           f"{settings.endpoint} (bigquery_endpoint of environment {settings.env!r}); stop it "
                           f"(bigflow bigquery emulator stop --config {settings.env}) and try again")
    return (f"BigQuery emulator {'started' if started else 'already running'} at {running.url} (data in "
            f"{emulator.data_dir}); it keeps running: bigflow bigquery query --config {settings.env} \"SELECT ...\" "
            f"reads it, bigflow bigquery emulator stop --config {settings.env} stops it")
