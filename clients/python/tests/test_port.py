"""The port test: a control script written the way Jobmon's documentation shows (port/
jobmon_example.py) runs unchanged against this project's server, in a Python process of its own,
and ends DONE with every output written."""

import subprocess
import sys
from pathlib import Path

from conftest import Server

HERE = Path(__file__).parent


def test_a_jobmon_docs_script_runs_unchanged(server: Server, workdir: Path) -> None:
    out = workdir / "output"
    res = subprocess.run(
        [sys.executable, str(HERE / "port" / "jobmon_example.py"), str(out)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "finished with status D" in res.stdout
    wid = int(res.stdout.split("workflow ")[1].split()[0])
    assert server.api("GET", f"/workflows/{wid}")["status"] == "DONE"
    assert sorted(p.name for p in out.glob("transform_*")) == sorted(
        f"transform_{loc}_{y}.txt" for loc in (101, 102, 103) for y in (2019, 2020)
    )
    assert (out / "summary.txt").read_text().splitlines() == (out / "aggregate_2019.txt").read_text().splitlines() + (
        out / "aggregate_2020.txt"
    ).read_text().splitlines()
    assert (out / "aggregate_2019.txt").read_text().split()[0] == "3"
    dag = server.api("GET", f"/workflows/{wid}/dag")
    assert dag["templateConcurrency"] == {"quickstart_transform_template": 2}
    assert len(dag["tasks"]) == 9
