"""Binding over HTTP and bad input: each mistake raises a typed exception that names the thing to
fix, before anything is written to the server when the client can tell on its own, and as the
server's own 4xx (rebuilt as the same class) when only the server can."""

from pathlib import Path

import pytest
from conftest import Server, unique

from jobmon.client.tool import Tool
from jobmon.core.exceptions import (
    CycleError,
    DuplicateTaskError,
    InvalidResourcesError,
    RunnerMissingError,
    TemplateArgumentError,
    UnknownClusterError,
    UnknownQueueError,
    ValidationError,
)


def _count_workflows(server: Server) -> int:
    return len(server.api("GET", "/workflows?limit=1000")["workflows"])


def test_bind_creates_tasks_edges_and_a_bound_run(server: Server, workdir: Path) -> None:
    tool = Tool(unique("bind_tool"))
    tt = tool.get_task_template(template_name="step", command_template="echo {i} {y}", node_args=["i"], task_args=["y"])
    wf = tool.create_workflow(name=unique("bind_wf"))
    a, b, c = tt.create_tasks(i=[1, 2, 3], y=2020)
    c.add_upstream(a)
    c.add_upstream(b)
    wf.add_tasks([a, b, c])
    wf.bind()
    assert wf.workflow_id is not None and wf.last_workflow_run_id is not None
    assert [t.initial_status for t in (a, b, c)] == ["G", "G", "G"]
    dag = server.api("GET", f"/workflows/{wf.workflow_id}/dag")
    ids = {t["name"]: t for t in dag["tasks"]}
    assert sorted(ids) == ["step_i-1", "step_i-2", "step_i-3"]
    assert sorted(ids["step_i-3"]["upstream"]) == sorted([a.task_id, b.task_id])
    assert ids["step_i-3"]["id"] == c.task_id
    # The same declaration again has the same identity.
    wf2 = tool.create_workflow(name=wf.name)
    a2, b2, c2 = tt.create_tasks(i=[1, 2, 3], y=2020)
    wf2.add_tasks([c2, b2, a2])
    assert wf2.task_hash == wf.task_hash and wf2.dag_hash != wf.dag_hash  # the edges are part of the DAG
    c2.add_upstreams([b2, a2])
    assert wf2.dag_hash == wf.dag_hash


def test_missing_and_unknown_template_args_are_named(server: Server) -> None:
    tool = Tool(unique("args_tool"))
    tt = tool.get_task_template(
        template_name="model", command_template="fit {loc} {year}", node_args=["loc"], task_args=["year"]
    )
    with pytest.raises(TemplateArgumentError, match="task 'fit_7': command template needs argument 'year'"):
        tt.create_task(name="fit_7", loc=7)
    with pytest.raises(TemplateArgumentError, match="has no argument 'sex'"):
        tt.create_task(loc=7, year=2020, sex=1)
    with pytest.raises(TemplateArgumentError, match=r"uses \{draws\} but 'draws' is not declared"):
        tool.get_task_template(template_name="bad", command_template="x {draws}", node_args=[])
    with pytest.raises(TemplateArgumentError, match="only node args may be given as lists; 'year' is not a node arg"):
        tt.create_tasks(loc=[1, 2], year=[2020, 2021])


def test_a_cycle_is_named_and_nothing_is_bound(server: Server) -> None:
    tool = Tool(unique("cycle_tool"))
    tt = tool.get_task_template(template_name="s", command_template="true {i}", node_args=["i"])
    a, b, c = tt.create_tasks(i=[1, 2, 3])
    b.add_upstream(a)
    c.add_upstream(b)
    a.add_upstream(c)
    wf = tool.create_workflow(name=unique("cycle_wf"))
    wf.add_tasks([a, b, c])
    before = _count_workflows(server)
    with pytest.raises(CycleError, match="the DAG has a cycle: s_i-\\d → s_i-\\d → s_i-\\d → s_i-\\d"):
        wf.bind()
    assert _count_workflows(server) == before


def test_unknown_cluster_and_queue_are_named_before_anything_is_written(server: Server) -> None:
    tool = Tool(unique("cluster_tool"))
    tt = tool.get_task_template(
        template_name="s", command_template="true {i}", node_args=["i"], default_cluster_name="nowhere"
    )
    wf = tool.create_workflow(name=unique("cluster_wf"))
    wf.add_tasks(tt.create_tasks(i=[1]))
    before = _count_workflows(server)
    with pytest.raises(UnknownClusterError, match="task 's_i-1': unknown cluster 'nowhere' \\(known: .*local"):
        wf.bind()
    tt2 = tool.get_task_template(
        template_name="q",
        command_template="true {i}",
        node_args=["i"],
        default_cluster_name="slurm",
        default_compute_resources={"queue": "long.q"},
    )
    wf2 = tool.create_workflow(name=unique("queue_wf"))
    wf2.add_tasks(tt2.create_tasks(i=[1]))
    with pytest.raises(UnknownQueueError, match="cluster 'slurm' has no queue 'long.q' \\(known: .*all.q"):
        wf2.bind()
    assert _count_workflows(server) == before


def test_the_servers_refusal_is_raised_as_its_class(server: Server, workdir: Path) -> None:
    # Only the server knows the queue's limits: its 400 comes back as InvalidResourcesError.
    tool = Tool(unique("limits_tool"))
    tt = tool.get_task_template(
        template_name="big", command_template="true {i}", node_args=["i"], default_cluster_name="slurm"
    )
    [t] = tt.create_tasks(i=[1], compute_resources={"queue": "all.q", "cores": 1})
    # Jobmon's update_compute_resources changes a copy; this one changes the task, so the server sees it.
    t.update_compute_resources(cores=64)
    wf = tool.create_workflow(name=unique("limits_wf"))
    wf.add_task(t)
    with pytest.raises(
        InvalidResourcesError, match="task 'big_i-1': cores 64 is outside queue 'all.q' limits \\[1, 8\\]"
    ) as e:
        wf.bind()
    assert e.value.status == 400 and e.value.code == "JM_INVALID_RESOURCES"


def test_duplicates_and_bad_limits(server: Server) -> None:
    tool = Tool(unique("dup_tool"))
    tt = tool.get_task_template(template_name="s", command_template="true {i}", node_args=["i"])
    wf = tool.create_workflow(name=unique("dup_wf"))
    wf.add_task(tt.create_task(i=1))
    with pytest.raises(DuplicateTaskError, match="tasks 's_i-1' and 's_i-1' are the same task"):
        wf.add_task(tt.create_task(i=1))
    with pytest.raises(ValueError):  # Jobmon raises ValueError for a duplicate: ours is one too
        wf.add_task(tt.create_task(i=1))
    with pytest.raises(ValidationError, match="must be a whole number ≥ 0"):
        wf.set_task_template_max_concurrency_limit("s", -1)
    wf.set_task_template_max_concurrency_limit("other", 2)
    with pytest.raises(ValidationError, match="concurrency limit set for task template 'other', which no task"):
        wf.bind()


def test_a_missing_runner_says_what_to_install_and_binds_nothing(
    server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOBMON_CLI", "/nonexistent/jobmon")
    tool = Tool(unique("norunner_tool"))
    tt = tool.get_task_template(template_name="s", command_template="true {i}", node_args=["i"])
    wf = tool.create_workflow(name=unique("norunner_wf"))
    wf.add_tasks(tt.create_tasks(i=[1]))
    before = _count_workflows(server)
    with pytest.raises(RunnerMissingError, match="npm ci"):
        wf.run()
    monkeypatch.delenv("JOBMON_CLI")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RunnerMissingError, match="`jobmon` command is not on PATH"):
        wf.run()
    assert _count_workflows(server) == before
