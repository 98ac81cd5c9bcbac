from bigflow.plugins import job_type


def test_registered_as_a_compatible_plugin(bigflow_cli):
    records = {r["name"]: r for r in bigflow_cli("plugins", "list", "--json").json()}
    assert records["bigflow-beam"]["status"] == "installed"
    assert records["bigflow-beam"]["api"] == ">=1,<2"
    assert records["bigflow-beam"]["provides"] == {
        "job_type": ["beam", "beam-streaming"], "command": ["beam"], "deploy_target": ["dataflow-streaming"],
        "starter": ["beam"],
    }


def test_job_types_and_the_1x_import_path(bigflow_host):
    import bigflow.dataflow
    import bigflow_beam

    assert job_type("beam") is bigflow_beam.BeamJob
    assert job_type("beam-streaming") is bigflow_beam.BeamStreamingJob
    assert bigflow.dataflow.BeamJob is bigflow_beam.BeamJob
    assert sorted(bigflow.dataflow.__all__) == sorted(bigflow_beam.__all__) == [
        "BeamJob", "BeamStreamingJob", "BigflowOptions", "PipelineOptionsDict", "current_env",
        "get_pipeline_options"]
