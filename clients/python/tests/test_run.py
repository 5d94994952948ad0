"""Running through the project's runner: DONE compares equal to Jobmon's WorkflowRunStatus.DONE,
a failing attempt is retried, a task that fails for good ends the run in ERROR with its error, a
second declaration resumes where the first stopped, and concurrency limits hold."""

from pathlib import Path

from conftest import Server, unique

from jobmon.client.tool import Tool
from jobmon.core.constants import TaskStatus, WorkflowRunStatus, WorkflowStatus


def test_run_is_done_and_a_second_run_does_nothing(server: Server, workdir: Path) -> None:
    tool = Tool(unique("run_tool"))
    tt = tool.get_task_template(template_name="w", command_template="echo {i} >> ran.txt", node_args=["i"])
    name = unique("run_wf")

    def declare():
        wf = tool.create_workflow(name=name)
        wf.add_tasks(tt.create_tasks(i=[1, 2, 3]))
        return wf

    wf = declare()
    status = wf.run(quiet=True)
    assert status == WorkflowRunStatus.DONE
    assert status.workflow_status == WorkflowStatus.DONE and (status.done, status.failed, status.total) == (3, 0, 3)
    assert all(t.final_status == TaskStatus.DONE for t in wf.tasks.values())
    assert sorted((workdir / "ran.txt").read_text().split()) == ["1", "2", "3"]
    again = declare().run(quiet=True)
    assert again == WorkflowRunStatus.DONE and again.workflow_id == status.workflow_id and again.run_id is None
    assert len((workdir / "ran.txt").read_text().split()) == 3


def test_a_failed_attempt_is_retried(server: Server, workdir: Path) -> None:
    tool = Tool(unique("retry_tool"))
    # First attempt: leaves a marker and fails; the retry finds the marker and succeeds.
    tt = tool.get_task_template(
        template_name="flaky", command_template="test -f seen_{i} || (touch seen_{i}; exit 3)", node_args=["i"]
    )
    wf = tool.create_workflow(name=unique("retry_wf"))
    [t] = tt.create_tasks(i=[1], max_attempts=2)
    wf.add_task(t)
    assert wf.run(quiet=True) == WorkflowRunStatus.DONE
    detail = server.api("GET", f"/tasks/{t.task_id}")
    assert detail["numAttempts"] == 2 and detail["status"] == "DONE"


def test_failure_reports_errors_and_a_second_declaration_resumes(server: Server, workdir: Path) -> None:
    tool = Tool(unique("resume_tool"))
    a_tt = tool.get_task_template(template_name="a", command_template="echo a >> ran.txt", node_args=[])
    b_tt = tool.get_task_template(template_name="b", command_template="test -f ok && echo b >> ran.txt", node_args=[])
    name = unique("resume_wf")

    def declare():
        wf = tool.create_workflow(name=name)
        a = a_tt.create_task()
        b = b_tt.create_task(upstream_tasks=[a], max_attempts=1)
        wf.add_tasks([a, b])
        return wf, b

    wf, b = declare()
    status = wf.run(quiet=True)
    assert status == WorkflowRunStatus.ERROR and status != WorkflowRunStatus.DONE
    assert status.workflow_status == WorkflowStatus.FAILED and (status.done, status.failed) == (1, 1)
    assert b.final_status == TaskStatus.ERROR_FATAL
    [err] = status.errors
    assert err["taskName"] == "b" and err["exitCode"] == 1 and err["errorClass"] == "application"
    assert b.get_errors()[0]["taskId"] == b.task_id
    assert (workdir / "ran.txt").read_text() == "a\n"

    (workdir / "ok").touch()
    wf2, _ = declare()
    again = wf2.run(quiet=True)
    assert again == WorkflowRunStatus.DONE and again.workflow_id == status.workflow_id
    assert (workdir / "ran.txt").read_text() == "a\nb\n"  # a was DONE: it did not run again


def test_concurrency_limits_hold(server: Server, workdir: Path) -> None:
    tool = Tool(unique("limit_tool"))
    # Two at once would find the lock taken and fail (max_attempts=1): with a limit of 1 none does.
    cmd = "mkdir lock_{g} && sleep 0.3 && echo {i} >> done_{g}.txt && rmdir lock_{g}"
    by_workflow = tool.get_task_template(
        template_name="one_at_a_time", command_template=cmd, node_args=["i"], task_args=["g"]
    )
    by_array = tool.get_task_template(
        template_name="array_limited", command_template=cmd, node_args=["i"], task_args=["g"]
    )
    wf = tool.create_workflow(name=unique("limit_wf"))
    wf.add_tasks(by_workflow.create_tasks(i=[1, 2, 3, 4], g="w", max_attempts=1))
    wf.add_tasks(by_array.create_tasks(i=[1, 2, 3, 4], g="a", max_attempts=1, max_concurrently_running=1))
    wf.set_task_template_max_concurrency_limit("one_at_a_time", 1)
    status = wf.run(quiet=True)
    assert status == WorkflowRunStatus.DONE, status.errors
    assert sorted((workdir / "done_w.txt").read_text().split()) == ["1", "2", "3", "4"]
    assert sorted((workdir / "done_a.txt").read_text().split()) == ["1", "2", "3", "4"]
    dag = server.api("GET", f"/workflows/{status.workflow_id}/dag")
    assert dag["templateConcurrency"] == {"one_at_a_time": 1, "array_limited": 1}


def test_seconds_until_timeout_stops_the_run_cleanly_and_it_resumes(server: Server, workdir: Path) -> None:
    tool = Tool(unique("timeout_tool"))
    tt = tool.get_task_template(template_name="slow", command_template="test -f fast || sleep 60", node_args=[])
    name = unique("timeout_wf")

    def declare():
        wf = tool.create_workflow(name=name)
        wf.add_task(tt.create_task(max_attempts=1))
        return wf

    stopped = declare().run(seconds_until_timeout=1, quiet=True)
    assert stopped == WorkflowRunStatus.STOPPED and stopped.workflow_status == WorkflowStatus.HALTED
    (workdir / "fast").touch()
    resumed = declare().run(quiet=True)
    assert resumed == WorkflowRunStatus.DONE and resumed.workflow_id == stopped.workflow_id
