import pytest

from bigflow.errors import BigflowError
from bigflow_spark.settings import DEFAULT_RUNTIME_VERSION, read_settings

PROD = {"spark_master": "dataproc", "gcp_project_id": "p", "region": "europe-west1",
        "dataproc_staging_location": "gs://bucket/some/prefix/"}


@pytest.mark.parametrize(("master", "engine", "effective"), [
    (None, "local", "local[*]"),
    ("local", "local", "local[*]"),
    ("local[2]", "local", "local[2]"),
    ("local[*]", "local", "local[*]"),
    ("local[4,2]", "local", "local[4,2]"),
    ("spark://127.0.0.1:17077", "standalone", "spark://127.0.0.1:17077"),
    ("spark://m1:7077,m2:7077", "standalone", "spark://m1:7077,m2:7077"),
])
def test_engine_is_chosen_by_spark_master(master, engine, effective):
    settings = read_settings({} if master is None else {"spark_master": master})
    assert (settings.engine, settings.master) == (engine, effective)


def test_standalone_addresses_of_ha_masters():
    settings = read_settings({"spark_master": "spark://m1:7077,10.0.0.2:7078"})
    assert settings.standalone_addresses == [("m1", 7077), ("10.0.0.2", 7078)]


@pytest.mark.parametrize("master", ["yarn", "local[x]", "spark://host", "k8s://https://x:443", "dataproc:c"])
def test_unsupported_master_names_the_valid_forms(master):
    with pytest.raises(BigflowError, match=r"unsupported spark_master .*'local\[\*\]', 'spark://HOST:PORT'"):
        read_settings({"spark_master": master})


def test_spark_conf_table_values_become_strings():
    settings = read_settings({"spark_conf": {"spark.sql.shuffle.partitions": 4, "spark.ui.enabled": True}})
    assert settings.spark_conf == {"spark.sql.shuffle.partitions": "4", "spark.ui.enabled": "true"}


def test_spark_conf_must_be_a_table():
    assert read_settings({"spark_conf": "spark.x=1"}).spark_conf == {"spark.x": "1"}  # as from bf_spark_conf
    with pytest.raises(BigflowError, match="'spark_conf' of environment '' must be a table"):
        read_settings({"spark_conf": ["spark.x"]})


def test_dataproc_settings_with_defaults():
    dataproc = read_settings(PROD).dataproc
    assert (dataproc.bucket, dataproc.prefix, dataproc.runtime_version) == ("bucket", "some/prefix",
                                                                            DEFAULT_RUNTIME_VERSION)
    assert dataproc.cluster is None and dataproc.network_tags == ()


def test_dataproc_staging_falls_back_to_temp_location():
    config = {**PROD, "dataproc_staging_location": None, "temp_location": "gs://tmp-bucket/tmp"}
    assert read_settings(config).dataproc.staging_location == "gs://tmp-bucket/tmp"


@pytest.mark.parametrize("missing", ["gcp_project_id", "region", "dataproc_staging_location"])
def test_dataproc_names_the_missing_key(missing):
    with pytest.raises(BigflowError, match=f"needs configuration key {missing!r}"):
        read_settings({k: v for k, v in PROD.items() if k != missing})


def test_1x_job_arguments_win_over_configuration():
    settings = read_settings({**PROD, "region": "us-east1"}, {"gcp_project_id": "p1", "region": None,
                                                             "dataproc_staging_location": "gs://b"})
    assert (settings.dataproc.project_id, settings.dataproc.region, settings.dataproc.bucket) == (
        "p1", "us-east1", "b")


def test_staging_location_must_be_a_gcs_uri():
    with pytest.raises(BigflowError, match="must look like 'gs://BUCKET"):
        read_settings({**PROD, "dataproc_staging_location": "/tmp/staging"})


def test_network_tags_accept_a_comma_separated_string():
    assert read_settings({**PROD, "dataproc_network_tags": "a, b"}).dataproc.network_tags == ("a", "b")
