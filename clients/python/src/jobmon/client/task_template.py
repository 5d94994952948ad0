"""Task templates: a command with ``{placeholders}``, each declared as a node arg (what makes a task
unique within a workflow), a task arg (data that makes it unique across workflows) or an op arg
(operational; may change between runs without changing identity). Every argument is checked."""

import itertools
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

from jobmon.client._resources import Resources, jobmon_resources, yaml_section
from jobmon.client.task import ArgValue, Task
from jobmon.core.exceptions import TemplateArgumentError, ValidationError

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,254}")


def placeholders(command_template: str) -> List[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(command_template) if m.group(1) is not None]


def format_command(command_template: str, values: Mapping[str, Any]) -> str:
    """Python's ``str.format`` for plain ``{name}`` placeholders (``{{``/``}}`` are braces)."""
    return _PLACEHOLDER.sub(
        lambda m: m.group(0)[0] if m.group(1) is None else str(values[m.group(1)]), command_template
    )


def _is_list(v: Any) -> bool:
    return isinstance(v, (list, tuple, set, frozenset, range)) or (
        hasattr(v, "__iter__") and not isinstance(v, (str, bytes, dict)) and hasattr(v, "__len__")
    )


class TaskTemplate:
    def __init__(
        self,
        tool_name: str,
        template_name: str,
        command_template: str,
        node_args: Optional[List[str]] = None,
        task_args: Optional[List[str]] = None,
        op_args: Optional[List[str]] = None,
    ) -> None:
        if not isinstance(template_name, str) or not _NAME.fullmatch(template_name):
            raise ValidationError(
                f"task template name '{template_name}' must start with a letter or _ and use letters, digits, _ . -",
                {"field": "template_name"},
            )
        self.tool_name = tool_name
        self.template_name = template_name
        self.command_template = command_template
        self.node_args: List[str] = list(node_args or [])
        self.task_args: List[str] = list(task_args or [])
        self.op_args: List[str] = list(op_args or [])
        self.default_cluster_name: str = ""
        self.default_compute_resources_set: Dict[str, Resources] = {}
        self.default_resource_scales_set: Dict[str, Dict[str, Any]] = {}
        self.default_max_attempts: Optional[int] = None
        #: Limit set by create_tasks(max_concurrently_running=…) (Jobmon's per-array limit).
        self.max_concurrently_running: Optional[int] = None
        declared = self.node_args + self.task_args + self.op_args
        twice = next((a for i, a in enumerate(declared) if a in declared[:i]), None)
        if twice is not None:
            raise TemplateArgumentError(
                f"task template '{template_name}': argument '{twice}' is declared more than once",
                {"template": template_name, "arg": twice},
            )
        self._all = set(declared)
        for p in placeholders(command_template):
            if p not in self._all:
                raise TemplateArgumentError(
                    f"task template '{template_name}': command template uses {{{p}}} but '{p}' is not declared as a node, task or op arg",
                    {"template": template_name, "arg": p},
                )

    def __repr__(self) -> str:
        return f"TaskTemplate({self.template_name!r})"

    @property
    def name(self) -> str:
        return self.template_name

    def same_definition(self, other: "TaskTemplate") -> bool:
        return (self.command_template, self.node_args, self.task_args, self.op_args) == (
            other.command_template,
            other.node_args,
            other.task_args,
            other.op_args,
        )

    # --- defaults ----------------------------------------------------------------------------

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = cluster_name

    def set_default_compute_resources_from_dict(self, cluster_name: str, compute_resources: Mapping[str, Any]) -> None:
        self.default_compute_resources_set[cluster_name] = jobmon_resources(
            compute_resources, f"task template '{self.template_name}'"
        )

    def update_default_compute_resources(self, cluster_name: str, **kwargs: Any) -> None:
        self.default_compute_resources_set.setdefault(cluster_name, {}).update(
            jobmon_resources(kwargs, f"task template '{self.template_name}'")
        )

    def set_default_compute_resources_from_yaml(self, default_cluster_name: str, yaml_file: str) -> None:
        """Keys ``task_template_resources.<template>.<cluster>`` (Jobmon's layout)."""
        section = yaml_section(yaml_file, ["task_template_resources", self.template_name, default_cluster_name], False)
        assert section is not None
        self.set_default_compute_resources_from_dict(default_cluster_name, section)

    def set_default_resource_scales_from_dict(self, cluster_name: str, resource_scales: Mapping[str, Any]) -> None:
        self.default_resource_scales_set[cluster_name] = dict(resource_scales)

    def update_default_resource_scales(self, cluster_name: str, **kwargs: Any) -> None:
        self.default_resource_scales_set.setdefault(cluster_name, {}).update(kwargs)

    def set_default_resource_scales_from_yaml(self, default_cluster_name: str, yaml_file: str) -> None:
        section = yaml_section(yaml_file, ["task_template_scales", self.template_name, default_cluster_name], False)
        assert section is not None
        self.set_default_resource_scales_from_dict(default_cluster_name, section)

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = value

    # --- tasks -------------------------------------------------------------------------------

    def _check_args(self, args: Mapping[str, Any], where: str) -> None:
        for a in self.node_args + self.task_args + self.op_args:
            if a not in args:
                raise TemplateArgumentError(
                    f"{where}: command template needs argument '{a}'", {"template": self.template_name, "arg": a}
                )
        for k, v in args.items():
            if k not in self._all:
                raise TemplateArgumentError(
                    f"{where}: task template '{self.template_name}' has no argument '{k}'",
                    {"template": self.template_name, "arg": k},
                )
            if not isinstance(v, (str, int, float, bool)):
                raise TemplateArgumentError(
                    f"{where}: argument '{k}' must be a string, number or boolean, not {type(v).__name__}",
                    {"template": self.template_name, "arg": k},
                )

    def create_task(
        self,
        name: Optional[str] = None,
        upstream_tasks: Optional[Iterable[Task]] = None,
        task_attributes: Optional[Mapping[str, Any]] = None,
        max_attempts: Optional[int] = None,
        compute_resources: Optional[Mapping[str, Any]] = None,
        compute_resources_callable: Any = None,
        resource_scales: Optional[Mapping[str, Any]] = None,
        cluster_name: str = "",
        fallback_queues: Optional[List[str]] = None,
        **kwargs: ArgValue,
    ) -> Task:
        """One task; ``kwargs`` must name every node, task and op arg of the template and nothing else."""
        where = f"task '{name}'" if name else f"task template '{self.template_name}'"
        if compute_resources_callable is not None:
            raise ValidationError(
                f"{where}: compute_resources_callable is not supported; give compute_resources (see docs/porting.md)",
                {"field": "compute_resources_callable"},
            )
        self._check_args(kwargs, where)
        return Task(
            self,
            {n: kwargs[n] for n in self.node_args},
            {n: kwargs[n] for n in self.task_args},
            {n: kwargs[n] for n in self.op_args},
            format_command(self.command_template, kwargs),
            name=name,
            upstream_tasks=upstream_tasks,
            task_attributes=task_attributes,
            max_attempts=max_attempts,
            compute_resources=compute_resources,
            resource_scales=resource_scales,
            cluster_name=cluster_name,
            fallback_queues=fallback_queues,
        )

    def create_tasks(
        self,
        max_attempts: Optional[int] = None,
        upstream_tasks: Optional[Iterable[Task]] = None,
        max_concurrently_running: Optional[int] = None,
        compute_resources: Optional[Mapping[str, Any]] = None,
        compute_resources_callable: Any = None,
        resource_scales: Optional[Mapping[str, Any]] = None,
        cluster_name: str = "",
        name: Optional[str] = None,
        task_attributes: Optional[Mapping[str, Any]] = None,
        **kwargs: Any,
    ) -> List[Task]:
        """Many tasks: node args given as lists are expanded as a cross product, in order."""
        for k, v in kwargs.items():
            if _is_list(v) and k not in self.node_args:
                raise TemplateArgumentError(
                    f"task template '{self.template_name}': only node args may be given as lists; '{k}' is not a node arg",
                    {"template": self.template_name, "arg": k},
                )
        if max_concurrently_running is not None:
            if (
                isinstance(max_concurrently_running, bool)
                or not isinstance(max_concurrently_running, int)
                or max_concurrently_running < 0
            ):
                raise ValidationError(
                    f"task template '{self.template_name}': max_concurrently_running must be a whole number ≥ 0",
                    {"template": self.template_name},
                )
            self.max_concurrently_running = max_concurrently_running
        keys = list(kwargs)
        values = [list(v) if _is_list(v) else [v] for v in kwargs.values()]
        upstream = list(upstream_tasks or [])
        return [
            self.create_task(
                upstream_tasks=upstream,
                task_attributes=task_attributes,
                max_attempts=max_attempts,
                compute_resources=compute_resources,
                compute_resources_callable=compute_resources_callable,
                resource_scales=resource_scales,
                cluster_name=cluster_name,
                **dict(zip(keys, combo)),
            )
            for combo in itertools.product(*values)
        ]
