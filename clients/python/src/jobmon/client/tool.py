"""A tool: the project its task templates and workflows belong to. Workflow identity is scoped to
the tool by name, so the same tool name in Python, TypeScript or a workflow file is one tool."""

import getpass
import re
from typing import Any, Dict, List, Mapping, Optional, Union

from jobmon.client._resources import Resources, jobmon_resources, yaml_section
from jobmon.client.task_template import TaskTemplate
from jobmon.client.workflow import Workflow
from jobmon.core.exceptions import ValidationError

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")


def _default_name() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error here
        user = "user"
    return "unknown-" + re.sub(r"[^A-Za-z0-9_.-]", "_", user)


class Tool:
    def __init__(
        self, name: Optional[str] = None, active_tool_version_id: Union[int, str] = "latest", requester: Any = None
    ) -> None:
        name = _default_name() if name is None else name
        if not isinstance(name, str) or not _TOOL_NAME.fullmatch(name):
            raise ValidationError(f"tool name '{name}' must be 1–255 letters, digits, _ . or -", {"field": "name"})
        self.name = name
        self.default_cluster_name: str = ""
        self.default_compute_resources_set: Dict[str, Resources] = {}
        self.default_resource_scales_set: Dict[str, Dict[str, Any]] = {}
        self.default_max_attempts: Optional[int] = None
        self._templates: Dict[str, TaskTemplate] = {}

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"

    @property
    def active_task_templates(self) -> Dict[str, TaskTemplate]:
        return dict(self._templates)

    def get_task_template(
        self,
        template_name: str,
        command_template: str,
        node_args: Optional[List[str]] = None,
        task_args: Optional[List[str]] = None,
        op_args: Optional[List[str]] = None,
        default_cluster_name: str = "",
        default_compute_resources: Optional[Mapping[str, Any]] = None,
        default_resource_scales: Optional[Mapping[str, Any]] = None,
        yaml_file: Optional[str] = None,
        max_attempts: Optional[int] = None,
    ) -> TaskTemplate:
        """Define a task template of this tool, or get back the same one defined before."""
        fresh = TaskTemplate(self.name, template_name, command_template, node_args, task_args, op_args)
        existing = self._templates.get(template_name)
        if existing is not None and not existing.same_definition(fresh):
            raise ValidationError(
                f"tool '{self.name}' already has a different task template named '{template_name}'",
                {"template": template_name},
            )
        tt = existing or fresh
        self._templates[template_name] = tt
        if (default_compute_resources or default_resource_scales) and not default_cluster_name:
            raise ValidationError(
                f"task template '{template_name}': default compute resources need default_cluster_name",
                {"template": template_name, "field": "default_cluster_name"},
            )
        if default_cluster_name:
            tt.set_default_cluster_name(default_cluster_name)
            if yaml_file:
                tt.set_default_compute_resources_from_yaml(default_cluster_name, yaml_file)
            if default_compute_resources:
                tt.update_default_compute_resources(default_cluster_name, **default_compute_resources)
            if default_resource_scales:
                tt.update_default_resource_scales(default_cluster_name, **default_resource_scales)
        if max_attempts is not None:
            tt.set_default_max_attempts(max_attempts)
        return tt

    def create_workflow(
        self,
        workflow_args: Union[str, Mapping[str, Any]] = "",
        name: str = "",
        description: str = "",
        workflow_attributes: Optional[Union[List[str], Mapping[str, Any]]] = None,
        max_concurrently_running: Optional[int] = None,
        chunk_size: int = 500,
        default_cluster_name: str = "",
        default_compute_resources_set: Optional[Mapping[str, Mapping[str, Any]]] = None,
        default_resource_scales_set: Optional[Mapping[str, Mapping[str, Any]]] = None,
        default_max_attempts: Optional[int] = None,
    ) -> Workflow:
        return Workflow(
            self,
            workflow_args=workflow_args,
            name=name,
            description=description,
            workflow_attributes=workflow_attributes,
            max_concurrently_running=max_concurrently_running,
            chunk_size=chunk_size,
            default_cluster_name=default_cluster_name,
            default_compute_resources_set=default_compute_resources_set,
            default_resource_scales_set=default_resource_scales_set,
            default_max_attempts=default_max_attempts,
        )

    # --- defaults (task templates', then workflows', then these) -------------------------------

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = cluster_name

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = value

    def set_default_compute_resources_from_dict(self, cluster_name: str, compute_resources: Mapping[str, Any]) -> None:
        self.default_compute_resources_set[cluster_name] = jobmon_resources(compute_resources, f"tool '{self.name}'")

    def update_default_compute_resources(self, cluster_name: str, **kwargs: Any) -> None:
        self.default_compute_resources_set.setdefault(cluster_name, {}).update(
            jobmon_resources(kwargs, f"tool '{self.name}'")
        )

    def set_default_resource_scales_from_dict(self, cluster_name: str, resource_scales: Mapping[str, Any]) -> None:
        self.default_resource_scales_set[cluster_name] = dict(resource_scales)

    def update_default_resource_scales(self, cluster_name: str, **kwargs: Any) -> None:
        self.default_resource_scales_set.setdefault(cluster_name, {}).update(kwargs)

    def set_default_compute_resources_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str,
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        """Keys ``tool_resources.<cluster>``; with set_task_templates, also each known template's
        ``task_template_resources.<template>.<cluster>``."""
        section = yaml_section(yaml_file, ["tool_resources", default_cluster_name], ignore_missing_keys)
        if section is not None:
            self.set_default_compute_resources_from_dict(default_cluster_name, section)
        if set_task_templates:
            for tt in self._templates.values():
                s = yaml_section(
                    yaml_file, ["task_template_resources", tt.template_name, default_cluster_name], ignore_missing_keys
                )
                if s is not None:
                    tt.set_default_compute_resources_from_dict(default_cluster_name, s)

    def set_default_resource_scales_from_yaml(
        self,
        default_cluster_name: str,
        yaml_file: str,
        set_task_templates: bool = False,
        ignore_missing_keys: bool = False,
    ) -> None:
        section = yaml_section(yaml_file, ["tool_scales", default_cluster_name], ignore_missing_keys)
        if section is not None:
            self.set_default_resource_scales_from_dict(default_cluster_name, section)
        if set_task_templates:
            for tt in self._templates.values():
                s = yaml_section(
                    yaml_file, ["task_template_scales", tt.template_name, default_cluster_name], ignore_missing_keys
                )
                if s is not None:
                    tt.set_default_resource_scales_from_dict(default_cluster_name, s)
