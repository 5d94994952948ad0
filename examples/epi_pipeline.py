"""An epidemiology-shaped pipeline, examples/epi-pipeline.ts in Python: prepare data, model every
location, aggregate locations into regions, summarise. Each task is a real shell command writing
real files. Run it with `python3 examples/epi_pipeline.py [locations]` after
`pip install ./clients/python` (and JOBMON_CLI or `jobmon` on PATH: docs/python.md).

It declares the same workflow as the TypeScript example (same tool, templates, args and
workflow args), so either finds the other's run: run one, then the other says it is DONE."""

import os
import sys
import tempfile

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus

LOCATIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
REGION_SIZE = 5
YEAR = 2025
out = os.environ.get("EPI_OUT") or os.path.join(tempfile.gettempdir(), "jobmon-epi-example")
os.makedirs(out, exist_ok=True)

tool = Tool("epi_example")
tool.set_default_cluster_name("local")

data_prep = tool.get_task_template(
    template_name="data_prep",
    command_template='mkdir -p {out} && echo "population,incidence" > {out}/inputs_{year}.csv && sleep 0.2',
    task_args=["year"],
    op_args=["out"],
)
one_location = tool.get_task_template(
    template_name="one_location",
    # A stand-in model: derive a number from the location id and write it out.
    command_template="test -f {out}/inputs_{year}.csv && "
    'echo "location {location_id}: $(( ({location_id} * 7919) % 1000 ))" > {out}/loc_{location_id}_{year}.txt',
    node_args=["location_id"],
    task_args=["year"],
    op_args=["out"],
)
aggregate = tool.get_task_template(
    template_name="aggregate",
    command_template="for loc in {members}; do cat {out}/loc_${{loc}}_{year}.txt; done > {out}/region_{region}_{year}.txt",
    node_args=["region"],
    task_args=["year"],
    op_args=["out", "members"],
)
summarize = tool.get_task_template(
    template_name="summarize",
    command_template="cat {out}/region_*_{year}.txt | wc -l > {out}/summary_{year}.txt && cat {out}/summary_{year}.txt",
    task_args=["year"],
    op_args=["out"],
)

workflow = tool.create_workflow(
    name=f"epi_example_{LOCATIONS}_locations",
    workflow_args={"year": YEAR, "locations": LOCATIONS},
    description="data_prep → one task per location → regional aggregates → summary",
)

prep = data_prep.create_task(year=YEAR, out=out)
locations = one_location.create_tasks(location_id=list(range(LOCATIONS)), year=YEAR, out=out, upstream_tasks=[prep])
regions = []
for r in range(0, (LOCATIONS + REGION_SIZE - 1) // REGION_SIZE):
    members = [k for k in range(r * REGION_SIZE, (r + 1) * REGION_SIZE) if k < LOCATIONS]
    regions.append(
        aggregate.create_task(
            region=r,
            year=YEAR,
            out=out,
            members=" ".join(map(str, members)),
            upstream_tasks=locations[r * REGION_SIZE : (r + 1) * REGION_SIZE],
        )
    )
summary = summarize.create_task(year=YEAR, out=out, upstream_tasks=regions)
workflow.add_tasks([prep, *locations, *regions, summary])
workflow.set_task_template_max_concurrency_limit("one_location", 4)

status = workflow.run()  # says so when the workflow is already DONE
if status.run_id is not None:
    print(
        f"workflow {status.workflow_id} ended {status.workflow_status}: {status.done}/{status.total} done, {status.failed} failed"
    )
    for e in status.errors:
        print(f"  {e['taskName']}: {e['errorClass']} error: {e['message']}")
    print(f"outputs in {out}; logs in {status.summary.get('logDir')}")
sys.exit(0 if status == WorkflowRunStatus.DONE else 1)
