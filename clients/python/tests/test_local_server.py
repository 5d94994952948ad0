"""With no JOBMON_URL the client starts `jobmon server --port 0` over the default database
($JOBMON_DB here), runs the workflow against it and stops it when Python exits."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import CLI


def test_without_jobmon_url_a_local_server_is_started_and_stopped(tmp_path: Path) -> None:
    script = tmp_path / "wf.py"
    script.write_text(
        """
from jobmon.client import _runner
from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus
tool = Tool("local_default")
tt = tool.get_task_template(template_name="s", command_template="echo {i} >> ran.txt", node_args=["i"])
wf = tool.create_workflow(name="local_default")
wf.add_tasks(tt.create_tasks(i=[1, 2]))
status = wf.run(quiet=True)
print(status == WorkflowRunStatus.DONE, _runner._local.proc.pid, _runner._local.url)
"""
    )
    env = {k: v for k, v in os.environ.items() if k != "JOBMON_URL"}
    env.update(JOBMON_DB=str(tmp_path / "state.db"), JOBMON_HOME=str(tmp_path / "home"), JOBMON_CLI=f"node {CLI}")
    res = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert res.returncode == 0, res.stderr
    done, pid, url = res.stdout.split()
    assert done == "True" and url.startswith("http://127.0.0.1:")
    assert (tmp_path / "state.db").exists() and sorted((tmp_path / "ran.txt").read_text().split()) == ["1", "2"]
    # The server went with the Python process that started it.
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
