def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-bigquery"]["status"] == "installed"
    assert records["bigflow-bigquery"]["api"] == ">=1,<2"
