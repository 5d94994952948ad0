"""One identity across languages: the Python client's hashes are the TypeScript client's, byte for
byte (JavaScript's String() and JSON.stringify rules, checked on awkward values against
packages/core itself), and the same DAG declared in TypeScript is the same workflow: a run
started from Python that failed part-way is resumed from TypeScript."""

import json
import random
import subprocess
from pathlib import Path
from typing import Any, Dict, List

from conftest import ROOT, Server, unique

from jobmon.client.tool import Tool
from jobmon.core import hashing
from jobmon.core.constants import WorkflowRunStatus

HERE = Path(__file__).parent


def _node(script: str, *args: str, cwd: Path = HERE, stdin: str = "") -> str:
    res = subprocess.run(
        ["node", "--input-type=module", "-e", script, *args] if script else ["node", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_hashes_equal_typescripts_on_awkward_values() -> None:
    rnd = random.Random(13)
    numbers: List[Any] = [
        0.1,
        1.0,
        -0.0,
        1e21,
        1e-7,
        1.5e300,
        5e-324,
        2**53 + 2,
        2**60,
        1e-6,
        123.456,
        -42,
        1e20,
        3.14159e-5,
    ]
    texts = [
        "a",
        "é",
        "\u2028",
        "\x00x",
        "\x1f",
        "\x7f",
        'q"b\\',
        "😀",
        "\ud800",
        "\ufeff",
        "tab\tnl\n",
        "/",
        "\u00a0 x",
        "\x1c",
        "B",
        "10",
        "9",
    ]
    cases: List[Dict[str, Any]] = []
    for _ in range(200):
        d: Dict[str, Any] = {}
        for j in range(rnd.randint(0, 4)):
            d[rnd.choice(texts + [f"k{j}"])] = rnd.choice(
                numbers + texts + [True, False, rnd.randint(-(10**6), 10**6), rnd.random() * 10 ** rnd.randint(-10, 25)]
            )
        cases.append(d)
    expected = [
        {
            "args": hashing.args_hash(d),
            "node": hashing.node_hash("tool😀", "tt\u2028", d),
            "wf": hashing.workflow_args_hash(d),
            "name": hashing.default_task_name("t", d),
        }
        for d in cases
    ]
    script = """
import { argsHash, nodeHash, workflowArgsHash } from '@jobmon/core';
let text = '';
for await (const chunk of process.stdin) text += chunk;
const cases = JSON.parse(text);
const name = (t, a) => [t, ...Object.keys(a).sort().map((k) => `${k}-${String(a[k])}`)].join('_').replace(/[\\s/\\\\'"]/g, '_').slice(0, 249);
console.log(JSON.stringify(cases.map((pairs) => {
  const d = Object.fromEntries(pairs);
  return { args: argsHash(d), node: nodeHash('tool😀', 'tt\\u2028', d), wf: workflowArgsHash(d), name: name('t', d) };
})));
"""
    # Python's json escapes lone surrogates as \\udxxx, which JavaScript reads back as the same unit.
    got = json.loads(_node(script, cwd=ROOT, stdin=json.dumps([list(d.items()) for d in cases])))
    mismatches = [(c, g, e) for c, g, e in zip(cases, got, expected) if g != e]
    assert mismatches == []


def _declare(tool_name: str, name: str):
    tool = Tool(tool_name)
    prep = tool.get_task_template(
        template_name="prep", command_template="echo prep {year} >> ran.txt", task_args=["year"]
    )
    model = tool.get_task_template(
        template_name="model",
        command_template="test -f ok_{location_id} && echo model {location_id} {sex} {year} >> ran.txt",
        node_args=["location_id", "sex"],
        task_args=["year"],
        op_args=["verbose"],
    )
    wf = tool.create_workflow(name=name, workflow_args=name)
    p = prep.create_task(year=2020)
    # Declared in another order than TypeScript's, and with op args Python spells its own way.
    models = model.create_tasks(
        sex=["female", "male"], location_id=[2, 1], year=2020, verbose="True", upstream_tasks=[p], max_attempts=1
    )
    wf.add_tasks(models + [p])
    return wf


def test_same_dag_in_python_and_typescript_is_one_workflow_resumed_across(server: Server, workdir: Path) -> None:
    tool_name, name = unique("xlang_tool"), unique("xlang_wf")
    wf = _declare(tool_name, name)
    ts = json.loads(_node("", str(HERE / "identity" / "dag.mjs"), tool_name, name, "--hashes"))
    assert ts == {
        "taskHash": wf.task_hash,
        "dagHash": wf.dag_hash,
        "argsHash": hashing.workflow_args_hash(wf.workflow_args),
    }

    (workdir / "ok_1").touch()  # location 2 fails until ok_2 exists
    status = wf.run(quiet=True)
    assert status == WorkflowRunStatus.ERROR and (status.done, status.failed) == (3, 2)

    (workdir / "ok_2").touch()
    out = json.loads(
        _node("", str(HERE / "identity" / "dag.mjs"), tool_name, name, cwd=workdir).strip().splitlines()[-1]
    )
    assert out == {"workflowId": status.workflow_id, "status": "DONE", "resumed": True, "done": 5, "total": 5}
    lines = (workdir / "ran.txt").read_text().splitlines()
    assert lines.count("prep 2020") == 1 and lines.count("model 1 male 2020") == 1  # DONE tasks did not run again
    assert sorted(x for x in lines if x.startswith("model")) == sorted(
        f"model {loc} {sex} 2020" for loc in (1, 2) for sex in ("male", "female")
    )
