"""
A Jobmon 3.x control script written the way Jobmon's documentation shows (quickstart: a tool,
task templates, create_tasks over locations and years, upstream edges, compute resources on the
"slurm" cluster's "all.q" queue, run(), a check of the status). test_port.py runs it unchanged
against this project's server: only the installed package differs.
"""

import getpass
import os
import sys
import uuid

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus

LOCATIONS = [101, 102, 103]
YEARS = [2019, 2020]


def workflow_template_example(output_dir):
    """
    Instantiate a tool, three task templates and a workflow; run it.
    """
    user = getpass.getuser()
    wf_uuid = uuid.uuid4()
    script_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "transform.py")

    # Create a tool
    tool = Tool(name="example_tool")

    # Create a workflow, and set the executor
    workflow = tool.create_workflow(
        name=f"template_workflow_{wf_uuid}",
        workflow_args=f"template_workflow_{wf_uuid}",
        description="transform every location and year, aggregate each year, summarize",
    )

    # Create task templates
    template_transform = tool.get_task_template(
        default_compute_resources={
            "queue": "all.q",
            "cores": 1,
            "memory": 1,
            "runtime": "10m",
            "stdout": f"/tmp/{user}",
            "stderr": f"/tmp/{user}",
            "project": "proj_scicomp",
        },
        template_name="quickstart_transform_template",
        default_cluster_name="slurm",
        command_template="{python} {script_path} transform --location_id {location_id} --year {year} "
        "--output_dir {output_dir}",
        node_args=["location_id", "year"],
        task_args=["output_dir"],
        op_args=["python", "script_path"],
    )
    template_aggregate = tool.get_task_template(
        default_compute_resources={"queue": "all.q", "cores": 2, "memory": "2G", "runtime": 600},
        template_name="quickstart_aggregate_template",
        default_cluster_name="slurm",
        command_template="{python} {script_path} aggregate --year {year} --output_dir {output_dir}",
        node_args=["year"],
        task_args=["output_dir"],
        op_args=["python", "script_path"],
    )
    template_summarize = tool.get_task_template(
        template_name="quickstart_summarize_template",
        default_cluster_name="slurm",
        command_template="{python} {script_path} summarize --output_dir {output_dir}",
        node_args=[],
        task_args=["output_dir"],
        op_args=["python", "script_path"],
    )
    template_summarize.set_default_compute_resources_from_dict(
        cluster_name="slurm", compute_resources={"queue": "all.q", "cores": 1, "memory": 1, "runtime": 300}
    )

    # Create tasks: one transform per location and year (a cross product), one aggregate per year
    transform_tasks = template_transform.create_tasks(
        location_id=LOCATIONS,
        year=YEARS,
        output_dir=output_dir,
        python=sys.executable,
        script_path=script_path,
        max_attempts=2,
    )
    workflow.add_tasks(transform_tasks)

    aggregate_tasks = []
    for year in YEARS:
        task = template_aggregate.create_task(
            name=f"aggregate_{year}",
            upstream_tasks=workflow.get_tasks_by_node_args("quickstart_transform_template", year=year),
            year=year,
            output_dir=output_dir,
            python=sys.executable,
            script_path=script_path,
        )
        aggregate_tasks.append(task)
    workflow.add_tasks(aggregate_tasks)

    summarize_task = template_summarize.create_task(
        name="summarize",
        output_dir=output_dir,
        python=sys.executable,
        script_path=script_path,
    )
    for task in aggregate_tasks:
        summarize_task.add_upstream(task)
    summarize_task.update_compute_resources(runtime=120)
    workflow.add_task(summarize_task)

    # At most two transforms at once
    workflow.set_task_template_max_concurrency_limit(task_template_name="quickstart_transform_template", limit=2)

    # Calling workflow.run() will create a WorkflowRun and execute it
    workflow_run_status = workflow.run()

    # Check the status
    if workflow_run_status != WorkflowRunStatus.DONE:
        raise RuntimeError(f"Workflow failed with status {workflow_run_status}")
    print(f"workflow {workflow.workflow_id} finished with status {workflow_run_status}")


if __name__ == "__main__":
    workflow_template_example(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.getcwd(), "output"))
