"""Against a server with authentication (--auth token): JOBMON_TOKEN is sent as a bearer token,
the runner gets the run's own token ($JOBMON_RUN_TOKEN) for itself and its workers, and with no
token the server's 401 is raised as UnauthorizedError naming what to do."""

import json
import os
import re
import subprocess
import threading
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from conftest import CLI, unique

from jobmon.client.tool import Tool
from jobmon.core.constants import WorkflowRunStatus
from jobmon.core.exceptions import UnauthorizedError


@pytest.fixture()
def token_server(tmp_path: Path) -> Iterator[Tuple[str, str]]:
    db = str(tmp_path / "auth.db")
    env = dict(os.environ, JOBMON_HOME=str(tmp_path / "home"))
    env.pop("JOBMON_URL", None)
    proc = subprocess.Popen(
        ["node", str(CLI), "server", "--port", "0", "--db", db, "--auth", "token"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        m = re.search(r"listening on (\S+)", proc.stdout.readline())
        assert m, proc.stderr.read() if proc.stderr else ""
        for stream in (proc.stdout, proc.stderr):
            threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
        minted = subprocess.run(
            [
                "node",
                str(CLI),
                "admin",
                "token",
                "create",
                "--user",
                "alice",
                "--scope",
                "operate",
                "--db",
                db,
                "--json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        yield m.group(1), json.loads(minted.stdout)["token"]
    finally:
        proc.terminate()
        proc.wait(15)


def _workflow(name: str):
    tool = Tool(unique("auth_tool"))
    tt = tool.get_task_template(template_name="s", command_template="echo {i} >> ran.txt", node_args=["i"])
    wf = tool.create_workflow(name=name)
    wf.add_tasks(tt.create_tasks(i=[1, 2]))
    return wf


def test_a_token_server_runs_a_python_workflow(
    token_server: Tuple[str, str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, token = token_server
    monkeypatch.setenv("JOBMON_URL", url)
    monkeypatch.setenv("JOBMON_CLI", f"node {CLI}")
    monkeypatch.delenv("JOBMON_TOKEN", raising=False)
    with pytest.raises(UnauthorizedError) as e:
        _workflow(unique("auth_wf")).run(quiet=True)
    assert e.value.status == 401 and "JOBMON_TOKEN" in str(e.value)
    monkeypatch.setenv("JOBMON_TOKEN", token)
    status = _workflow(unique("auth_wf")).run(quiet=True)
    assert status == WorkflowRunStatus.DONE, status.errors
    assert sorted((workdir / "ran.txt").read_text().split()) == ["1", "2"]
