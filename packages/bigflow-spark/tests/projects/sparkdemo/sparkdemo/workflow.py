from bigflow.workflow import Workflow
from bigflow_spark import PySparkJob
from sparkdemo.drivers import broken_driver, count_words

word_count = Workflow(
    workflow_id="word_count",
    definition=[PySparkJob("count_words", driver=count_words, driver_args={"top": 2}, retry_count=0)],
)

broken = Workflow(
    workflow_id="broken",
    definition=[PySparkJob("broken", driver=broken_driver, retry_count=0)],
)
