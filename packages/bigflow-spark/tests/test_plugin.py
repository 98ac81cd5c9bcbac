def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-spark"]["status"] == "ok"
    assert records["bigflow-spark"]["api"] == ">=1,<2"
