"""One real ``jobmon server`` per test session, on SQLite or (JOBMON_TEST_DB=postgres) on a fresh
PostgreSQL database created for the session and dropped after it. Tests talk to it through
JOBMON_URL and run workflows with the repository's CLI (JOBMON_CLI), as a user would."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLI = ROOT / "packages" / "cli" / "bin" / "jobmon.js"
PG_ADMIN = os.environ.get("JOBMON_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")
DB_KIND = "postgres" if os.environ.get("JOBMON_TEST_DB") == "postgres" else "sqlite"

if "jobmon" not in sys.modules:
    # Without an installed package (a quick run from the checkout), test the source.
    try:
        import jobmon  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


class Server:
    def __init__(self, url: str, proc: "subprocess.Popen[str]", home: Path) -> None:
        self.url = url
        self.proc = proc
        self.home = home

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/api/v1{path}", data=data, method=method, headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(req) as res:
            return json.loads(res.read() or b"null")


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    tmp = Path(tempfile.mkdtemp(prefix="jobmon-py-"))
    home = tmp / "home"
    pg_db = None
    if DB_KIND == "postgres":
        pg_db = "jobmon_py_" + uuid.uuid4().hex[:12]
        _psql(f"CREATE DATABASE {pg_db}")
        target = re.sub(r"/[^/]*$", f"/{pg_db}", PG_ADMIN)
    else:
        target = str(tmp / "jobmon.db")
    env = dict(os.environ, JOBMON_HOME=str(home))
    env.pop("JOBMON_URL", None)
    proc = subprocess.Popen(
        ["node", str(CLI), "server", "--port", "0", "--db", target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    m = re.search(r"listening on (\S+)", first)
    if not m:
        proc.kill()
        raise RuntimeError(f"jobmon server did not start: {first}{proc.stderr.read() if proc.stderr else ''}")
    for stream in (proc.stdout, proc.stderr):
        threading.Thread(target=lambda s=stream: [None for _ in s], daemon=True).start()
    saved = {k: os.environ.get(k) for k in ("JOBMON_URL", "JOBMON_CLI", "JOBMON_HOME")}
    os.environ.update(JOBMON_URL=m.group(1), JOBMON_CLI=f"node {CLI}", JOBMON_HOME=str(home))
    srv = Server(m.group(1), proc, home)
    # A cluster named as Jobmon's docs name theirs, run on this machine: the port test's script
    # asks for cluster 'slurm' and queue 'all.q' and runs unchanged.
    put = srv.api(
        "PUT",
        "/clusters/slurm",
        {
            "type": "local",
            "options": {},
            "queues": [{"name": "all.q", "limits": {"cores": [1, 8], "memory": [1, 65536], "runtime": [1, 86400]}}],
        },
    )
    assert put["cluster"]["type"] == "local", put
    try:
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if pg_db is not None:
            _psql(f"DROP DATABASE IF EXISTS {pg_db} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs its commands in its own directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def workflow_detail(server: Server, workflow_id: int) -> Dict[str, Any]:
    return server.api("GET", f"/workflows/{workflow_id}")
