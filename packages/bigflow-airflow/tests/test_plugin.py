def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-airflow"]["status"] == "installed"
    assert records["bigflow-airflow"]["api"] == ">=1,<2"


def test_declared_contributions_are_the_registered_ones(bigflow_host):
    plugin = bigflow_host.plugin("bigflow-airflow")
    assert plugin.info.provides == {"artifact_builder": ["dags"], "deploy_target": ["composer", "local-airflow"],
                                    "command": ["airflow"]}
    assert {"dags"} <= set(bigflow_host.contributions("artifact_builder"))
    assert {"composer", "local-airflow"} <= set(bigflow_host.contributions("deploy_target"))
    assert bigflow_host.contributions("command")["airflow"].plugin == "bigflow-airflow"


def test_loading_the_plugin_imports_no_engine():
    import subprocess
    import sys

    code = ("import sys; from bigflow import plugins; plugins.host().contributions('deploy_target'); "
            "print(sorted(m for m in sys.modules if m.startswith(('airflow', 'google.cloud.storage', "
            "'google.api_core', 'google.auth', 'kubernetes'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_start_rehearsal_services_is_a_hook_other_plugins_implement(bigflow_host):
    """bigflow-bigquery implements it (as an optional hook: it does not depend on bigflow-airflow)."""
    assert bigflow_host.load().pm.hook.start_rehearsal_services.spec is not None
    bigquery = bigflow_host.plugin("bigflow-bigquery")
    assert bigquery.status == "ok" and "start_rehearsal_services" in bigflow_host.hooks_of(bigquery)
