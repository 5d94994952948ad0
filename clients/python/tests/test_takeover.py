"""run(resume=True) as Jobmon's: while another process's run holds the workflow, a plain run is
refused with a message saying how to take over; resume=True (reset_running_jobs: cold) makes the
holder step aside, its running task is killed, and this run finishes the workflow."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Server, unique

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus
from jobmon.core.exceptions import WorkflowNotResumableError

SCRIPT = """
import json, sys
from jobmon.client.tool import Tool
tool = Tool(sys.argv[1])
tt = tool.get_task_template(template_name="slow", command_template="echo start >> ran.txt; test -f fast || sleep 60", node_args=[])
wf = tool.create_workflow(name=sys.argv[2])
wf.add_task(tt.create_task(max_attempts=1))
status = wf.run(quiet=True)
print(json.dumps({"status": str(status), "workflow": wf.workflow_id}))
"""


def _declare(tool_name: str, name: str):
    tool = Tool(tool_name)
    tt = tool.get_task_template(
        template_name="slow", command_template="echo start >> ran.txt; test -f fast || sleep 60", node_args=[]
    )
    wf = tool.create_workflow(name=name)
    wf.add_task(tt.create_task(max_attempts=1))
    return wf


def test_resume_true_takes_over_a_live_run(server: Server, workdir: Path) -> None:
    tool_name, name = unique("takeover_tool"), unique("takeover_wf")
    (workdir / "holder.py").write_text(SCRIPT)
    holder = subprocess.Popen(
        [sys.executable, "holder.py", tool_name, name],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 60
        while not (workdir / "ran.txt").exists():  # the holder's task has started
            assert holder.poll() is None and time.monotonic() < deadline, holder.stderr.read() if holder.stderr else ""
            time.sleep(0.1)
        with pytest.raises(WorkflowNotResumableError, match=r"run\(resume=True\) takes it over"):
            _declare(tool_name, name).run(quiet=True)
        (workdir / "fast").touch()
        status = _declare(tool_name, name).run(resume=True, quiet=True)
        assert status == WorkflowRunStatus.DONE
        out, err = holder.communicate(timeout=60)
        held = json.loads(out.strip().splitlines()[-1])
        assert held["workflow"] == status.workflow_id and held["status"] != WorkflowRunStatus.DONE, err
        assert (workdir / "ran.txt").read_text() == "start\nstart\n"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
