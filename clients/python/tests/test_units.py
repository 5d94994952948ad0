"""What needs no server: JavaScript's number formatting, Jobmon's resource spellings and units,
the YAML files Jobmon scripts read defaults from, and the resolution of defaults."""

from pathlib import Path

import pytest

from jobmon.client._resources import read_yaml
from jobmon.client.tool import Tool
from jobmon.core.exceptions import ValidationError
from jobmon.core.hashing import default_task_name, js_number, js_string


@pytest.mark.parametrize(
    "value, text",
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (-0.0, "0"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (123.456, "123.456"),
        (5e-324, "5e-324"),
        (1.5e300, "1.5e+300"),
        (2**60, "1152921504606847000"),
    ],
)
def test_numbers_are_stringified_as_javascript_does(value: float, text: str) -> None:
    assert js_number(float(value)) == text if isinstance(value, float) else js_string(value) == text


def test_args_and_default_names_follow_the_typescript_client() -> None:
    assert js_string(True) == "true" and js_string(7) == "7"
    assert default_task_name("model", {"sex": "fe male", "loc": 1.0}) == "model_loc-1_sex-fe_male"


def test_yaml_defaults_and_jobmon_units(tmp_path: Path) -> None:
    f = tmp_path / "resources.yaml"
    f.write_text(
        """
# Jobmon's layout
tool_resources:
  slurm:
    cores: 1
    memory: "1G"
    queue: all.q
task_template_resources:
  model:
    slurm:
      cores: 4       # four
      memory: 8
      runtime: 3600
      constraints: [archive, avx]
"""
    )
    assert read_yaml(str(f))["task_template_resources"]["model"]["slurm"]["constraints"] == ["archive", "avx"]
    tool = Tool("yaml_tool")
    tt = tool.get_task_template(template_name="model", command_template="fit {loc}", node_args=["loc"])
    tool.set_default_compute_resources_from_yaml("slurm", str(f), set_task_templates=True)
    assert tool.default_compute_resources_set["slurm"] == {"cores": 1, "memory": "1G", "queue": "all.q"}
    # Jobmon's memory numbers are GB; sent as "8G" so that the server (MiB numbers) reads them right.
    assert tt.default_compute_resources_set["slurm"] == {
        "cores": 4,
        "memory": "8G",
        "runtime": 3600,
        "constraints": ["archive", "avx"],
    }
    with pytest.raises(ValidationError, match="no key tool_resources.elsewhere"):
        tool.set_default_compute_resources_from_yaml("elsewhere", str(f))
    tool.set_default_compute_resources_from_yaml("elsewhere", str(f), ignore_missing_keys=True)


def test_resources_resolve_task_over_template_over_workflow_over_tool() -> None:
    tool = Tool("resolve_tool")
    tool.set_default_cluster_name("slurm")
    tool.set_default_compute_resources_from_dict("slurm", {"queue": "all.q", "cores": 1, "runtime": 60})
    tt = tool.get_task_template(
        template_name="m",
        command_template="x {i}",
        node_args=["i"],
        default_cluster_name="slurm",
        default_compute_resources={"cores": 2},
    )
    wf = tool.create_workflow(name="resolve", default_compute_resources_set={"slurm": {"runtime": 120, "memory": 2}})
    t = tt.create_task(i=1, compute_resources={"cores": 3})
    t.update_compute_resources(runtime="1h")
    wf.add_task(t)
    r = wf._resolve(t)
    assert (r["cluster"], r["queue"]) == ("slurm", "all.q")
    assert r["resources"] == {"cores": 3, "runtime": "1h", "memory": "2G"}
    assert r["max_attempts"] == 3
