"""A task: one command of a template with its args, its upstream tasks and how to run it. Its
identity hashes are the TypeScript client's (jobmon.core.hashing); op args are not part of them.

Unlike Jobmon's, ``update_compute_resources`` and ``update_resource_scales`` change the task
itself (Jobmon's change a copy and so do nothing)."""

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional

from jobmon.client._resources import Resources, jobmon_resources
from jobmon.core import hashing
from jobmon.core.exceptions import ValidationError

if TYPE_CHECKING:
    from jobmon.client.task_template import TaskTemplate
    from jobmon.client.workflow import Workflow

ArgValue = hashing.ArgValue


class Task:
    def __init__(
        self,
        template: "TaskTemplate",
        node_args: Mapping[str, ArgValue],
        task_args: Mapping[str, ArgValue],
        op_args: Mapping[str, ArgValue],
        command: str,
        name: Optional[str] = None,
        upstream_tasks: Optional[Iterable["Task"]] = None,
        task_attributes: Optional[Mapping[str, Any]] = None,
        max_attempts: Optional[int] = None,
        compute_resources: Optional[Mapping[str, Any]] = None,
        resource_scales: Optional[Mapping[str, Any]] = None,
        cluster_name: str = "",
        fallback_queues: Optional[List[str]] = None,
    ) -> None:
        self.template = template
        self.node_args: Dict[str, ArgValue] = dict(node_args)
        self.task_args: Dict[str, ArgValue] = dict(task_args)
        self.op_args: Dict[str, ArgValue] = dict(op_args)
        self.command = command
        self.name: str = name if name else hashing.default_task_name(template.template_name, self.node_args)
        if len(self.name) > 255:
            raise ValidationError(f"task name '{self.name[:40]}…' must have 1 to 255 characters", {"field": "name"})
        where = f"task '{self.name}'"
        if max_attempts is not None and (
            isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
        ):
            raise ValidationError(f"{where}: max_attempts must be a whole number ≥ 1", {"field": "max_attempts"})
        self.max_attempts = max_attempts
        self.compute_resources: Resources = jobmon_resources(compute_resources, where)
        self.resource_scales: Dict[str, Any] = dict(resource_scales or {})
        self.cluster_name = cluster_name or ""
        self.fallback_queues = list(fallback_queues) if fallback_queues is not None else None
        self.task_attributes: Dict[str, str] = {}
        for k, v in (task_attributes or {}).items():
            self.add_attribute(k, v)
        self.upstream_tasks: List[Task] = []
        self.downstream_tasks: List[Task] = []
        for u in upstream_tasks or []:
            self.add_upstream(u)
        self.task_id: Optional[int] = None
        #: Status letter the task was bound with (jobmon.core.constants.TaskStatus).
        self.initial_status: Optional[str] = None
        #: Status letter after the last run.
        self.final_status: Optional[str] = None
        self.workflow: Optional["Workflow"] = None
        self._hashes: Optional[Dict[str, str]] = None

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, command={self.command!r})"

    # --- dependencies and attributes ---------------------------------------------------------

    def add_upstream(self, ancestor: "Task") -> None:
        if ancestor is self:
            raise ValidationError(f"task '{self.name}' cannot depend on itself", {"field": "upstream"})
        if not isinstance(ancestor, Task):
            raise ValidationError(f"task '{self.name}': upstream {ancestor!r} is not a Task", {"field": "upstream"})
        if ancestor not in self.upstream_tasks:
            self.upstream_tasks.append(ancestor)
            ancestor.downstream_tasks.append(self)

    def add_upstreams(self, ancestors: Iterable["Task"]) -> None:
        for a in ancestors:
            self.add_upstream(a)

    def add_downstream(self, descendant: "Task") -> None:
        descendant.add_upstream(self)

    def add_downstreams(self, descendants: Iterable["Task"]) -> None:
        for d in descendants:
            self.add_downstream(d)

    def add_attribute(self, attribute: str, value: Any) -> None:
        self.task_attributes[str(attribute)] = (
            "" if value is None else hashing.js_string(value) if isinstance(value, (int, float, bool)) else str(value)
        )

    def add_attributes(self, attributes: Mapping[str, Any]) -> None:
        for k, v in attributes.items():
            self.add_attribute(k, v)

    # --- resources ---------------------------------------------------------------------------

    def update_compute_resources(self, **kwargs: Any) -> None:
        """Change this task's compute resources (Jobmon's changes a copy: see docs/porting.md)."""
        self.compute_resources.update(jobmon_resources(kwargs, f"task '{self.name}'"))

    def update_resource_scales(self, **kwargs: Any) -> None:
        self.resource_scales.update(kwargs)

    @property
    def queue_name(self) -> Optional[str]:
        q = self.compute_resources.get("queue")
        return q if isinstance(q, str) else None

    @property
    def requested_resources(self) -> Resources:
        return {k: v for k, v in self.compute_resources.items() if k != "queue"}

    # --- identity and results ----------------------------------------------------------------

    @property
    def hashes(self) -> Dict[str, str]:
        if self._hashes is None:
            node = hashing.node_hash(self.template.tool_name, self.template.template_name, self.node_args)
            ta = hashing.args_hash(self.task_args)
            self._hashes = {"node": node, "task_args": ta, "task": hashing.task_hash(node, ta)}
        return self._hashes

    @property
    def task_hash(self) -> str:
        return self.hashes["task"]

    def get_errors(self) -> List[Dict[str, Any]]:
        """This task's errors from the last run: error class, message, exit code, stderr tail."""
        if self.workflow is None or self.task_id is None:
            raise ValidationError(f"task '{self.name}' has not been bound: run its workflow first")
        return [e for e in self.workflow.get_errors() if e.get("taskId") == self.task_id]
