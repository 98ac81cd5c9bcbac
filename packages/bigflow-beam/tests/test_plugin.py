def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-beam"]["status"] == "ok"
    assert records["bigflow-beam"]["api"] == ">=1,<2"
