"""A workflow: tasks, their dependencies and how to run them. ``bind()`` sends it to the server in
the TypeScript client's requests (tool, templates, workflow identity, a run that claims it, tasks
in chunks of 5,000, edges in chunks of 50,000, BOUND), after every check that needs no server, so
bad input changes nothing. ``run()`` binds, then has the ``jobmon`` command drive that run, and
returns the run's status letter: ``WorkflowRunStatus.DONE`` ("D") when every task is done."""

import json
import sys
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Set, Union

from jobmon.client import _bind, _runner
from jobmon.client._resources import jobmon_resources, merge, split_queue
from jobmon.client.task import Task
from jobmon.core import hashing
from jobmon.core.constants import TASK_LETTER, WORKFLOW_LETTER, WORKFLOW_RUN_LETTER
from jobmon.core.exceptions import (
    DuplicateTaskError,
    JobmonError,
    ValidationError,
)
from jobmon.core.requester import Requester

if TYPE_CHECKING:
    from jobmon.client.task_template import TaskTemplate
    from jobmon.client.tool import Tool

TASK_CHUNK = 5000
EDGE_CHUNK = 50_000


class RunStatus(str):
    """The run's status letter (compares equal to ``WorkflowRunStatus.DONE`` and the like), with
    the outcome: ``workflow_id``, ``run_id``, ``workflow_status``, counts and per-task ``errors``."""

    workflow_id: int
    run_id: Optional[int]
    workflow_status: str
    done: int
    failed: int
    total: int
    errors: List[Dict[str, Any]]
    summary: Dict[str, Any]


class Workflow:
    def __init__(
        self,
        tool: "Tool",
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
    ) -> None:
        self.tool = tool
        self.name = name or ""
        self.description = description or ""
        if isinstance(workflow_args, Mapping):
            self.workflow_args: Dict[str, Any] = dict(workflow_args)
        elif workflow_args:
            self.workflow_args = {"workflow_args": str(workflow_args)}
        elif self.name:
            self.workflow_args = {"name": self.name}
        else:
            self.workflow_args = {"anonymous": str(uuid.uuid4())}
        for k, v in self.workflow_args.items():
            if not isinstance(v, (str, int, float, bool)):
                raise ValidationError(f"workflow '{self.name}': workflow arg '{k}' must be a string, number or boolean")
        self.workflow_attributes: Dict[str, str] = {}
        if workflow_attributes is not None:
            self.add_attributes(workflow_attributes)
        if max_concurrently_running is not None:
            _check_limit(max_concurrently_running, f"workflow '{self.name}': max_concurrently_running")
        self.max_concurrently_running = max_concurrently_running
        self.default_cluster_name = default_cluster_name or ""
        self.default_compute_resources_set: Dict[str, Dict[str, Any]] = {
            c: jobmon_resources(r, f"workflow '{self.name}'") for c, r in (default_compute_resources_set or {}).items()
        }
        self.default_resource_scales_set: Dict[str, Dict[str, Any]] = {
            c: dict(r) for c, r in (default_resource_scales_set or {}).items()
        }
        self.default_max_attempts = default_max_attempts
        self.tasks: Dict[str, Task] = {}
        self._order: List[Task] = []
        self._by_node: Dict[str, Task] = {}
        self._ids: Set[int] = set()
        self._template_limits: Dict[str, int] = {}
        self.workflow_id: Optional[int] = None
        self.dag_id: Optional[int] = None
        self.last_workflow_run_id: Optional[int] = None
        self._run_token: Optional[str] = None
        self._requester: Optional[Requester] = None
        self._url: Optional[str] = None
        self.last_result: Optional[RunStatus] = None

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, tasks={len(self._order)})"

    # --- declaring ---------------------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        if not isinstance(task, Task):
            raise ValidationError(f"workflow '{self.name}': {task!r} is not a Task")
        if id(task) in self._ids:
            raise DuplicateTaskError(f"task '{task.name}' is already in workflow '{self.name}'", {"task": task.name})
        other = self.tasks.get(task.task_hash) or self._by_node.get(task.hashes["node"])
        if other is not None:
            raise DuplicateTaskError(
                f"tasks '{other.name}' and '{task.name}' are the same task (template '{task.template.template_name}' "
                "with the same node args); give them different node args",
                {"tasks": [other.name, task.name]},
            )
        self.tasks[task.task_hash] = task
        self._by_node[task.hashes["node"]] = task
        self._ids.add(id(task))
        self._order.append(task)
        task.workflow = self
        return task

    def add_tasks(self, tasks: Iterable[Task]) -> None:
        for t in tasks:
            self.add_task(t)

    def add_attributes(self, workflow_attributes: Union[List[str], Mapping[str, Any]]) -> None:
        if isinstance(workflow_attributes, Mapping):
            items = list(workflow_attributes.items())
        else:
            items = [(a, "") for a in workflow_attributes]
        for k, v in items:
            self.workflow_attributes[str(k)] = (
                hashing.js_string(v) if isinstance(v, (int, float, bool)) else ("" if v is None else str(v))
            )

    def set_task_template_max_concurrency_limit(self, task_template_name: str, limit: int) -> None:
        """At most ``limit`` tasks of this template run at once in this workflow."""
        _check_limit(limit, f"concurrency limit for '{task_template_name}'")
        self._template_limits[task_template_name] = limit

    def set_max_concurrently_running(self, max_concurrently_running: int) -> None:
        _check_limit(max_concurrently_running, f"workflow '{self.name}': max_concurrently_running")
        self.max_concurrently_running = max_concurrently_running

    def set_default_cluster_name(self, cluster_name: str) -> None:
        self.default_cluster_name = cluster_name

    def set_default_max_attempts(self, value: int) -> None:
        self.default_max_attempts = value

    def set_default_compute_resources_from_dict(self, cluster_name: str, dictionary: Mapping[str, Any]) -> None:
        self.default_compute_resources_set[cluster_name] = jobmon_resources(dictionary, f"workflow '{self.name}'")

    def set_default_resource_scales_from_dict(self, cluster_name: str, dictionary: Mapping[str, Any]) -> None:
        self.default_resource_scales_set[cluster_name] = dict(dictionary)

    def get_tasks_by_node_args(self, task_template_name: str, **kwargs: Any) -> List[Task]:
        """Tasks of a template whose node args match; a list value matches any of its items."""

        def match(t: Task) -> bool:
            for k, v in kwargs.items():
                want = list(v) if isinstance(v, (list, tuple, set, range)) else [v]
                if k not in t.node_args or t.node_args[k] not in want:
                    return False
            return True

        return [t for t in self._order if t.template.template_name == task_template_name and match(t)]

    # --- identity ----------------------------------------------------------------------------

    def _upstream(self) -> List[List[int]]:
        index = {id(t): i for i, t in enumerate(self._order)}
        out: List[List[int]] = []
        for t in self._order:
            ups = []
            for u in t.upstream_tasks:
                i = index.get(id(u))
                if i is None:
                    raise ValidationError(
                        f"task '{t.name}' depends on '{u.name}', which was not added to workflow '{self.name}'",
                        {"task": t.name, "upstream": u.name},
                    )
                ups.append(i)
            out.append(ups)
        _bind.check_acyclic(out, [t.name for t in self._order])
        return out

    @property
    def task_hash(self) -> str:
        return hashing.task_set_hash(t.task_hash for t in self._order)

    @property
    def dag_hash(self) -> str:
        return hashing.dag_hash([t.hashes["node"] for t in self._order], self._upstream())

    @property
    def is_bound(self) -> bool:
        return self.workflow_id is not None

    def validate(self, strict: bool = True, raise_on_error: bool = True) -> None:
        """The checks bind makes before it sends anything (no server needed)."""
        self._prepare()

    # --- binding -----------------------------------------------------------------------------

    def _resolve(self, t: Task) -> Dict[str, Any]:
        tool, tt = self.tool, t.template
        cluster = (
            t.cluster_name
            or tt.default_cluster_name
            or self.default_cluster_name
            or tool.default_cluster_name
            or "local"
        )
        merged = merge(
            tool.default_compute_resources_set.get(cluster),
            self.default_compute_resources_set.get(cluster),
            tt.default_compute_resources_set.get(cluster),
            t.compute_resources,
        )
        queue, resources = split_queue(merged)
        scales = merge(
            tool.default_resource_scales_set.get(cluster),
            self.default_resource_scales_set.get(cluster),
            tt.default_resource_scales_set.get(cluster),
            t.resource_scales,
        )
        max_attempts = (
            t.max_attempts or tt.default_max_attempts or self.default_max_attempts or tool.default_max_attempts or 3
        )
        return {
            "cluster": cluster,
            "queue": queue,
            "resources": resources,
            "scales": scales,
            "max_attempts": max_attempts,
        }

    def _prepare(self) -> Dict[str, Any]:
        if not self._order:
            raise ValidationError(f"workflow '{self.name}' has no tasks", {"field": "tasks"})
        upstream = self._upstream()
        templates: List["TaskTemplate"] = []
        for t in self._order:
            if t.template not in templates:
                clash = next((x for x in templates if x.template_name == t.template.template_name), None)
                if clash is not None:
                    raise ValidationError(
                        f"two different task templates are named '{t.template.template_name}' in workflow '{self.name}'",
                        {"template": t.template.template_name},
                    )
                templates.append(t.template)
        limits = {
            tt.template_name: tt.max_concurrently_running for tt in templates if tt.max_concurrently_running is not None
        }
        limits.update(self._template_limits)
        for name in limits:
            if not any(tt.template_name == name for tt in templates):
                raise ValidationError(
                    f"concurrency limit set for task template '{name}', which no task of workflow '{self.name}' uses",
                    {"template": name},
                )
        return {
            "upstream": upstream,
            "templates": templates,
            "limits": limits,
            "resolved": [self._resolve(t) for t in self._order],
        }

    def _connect(self) -> Requester:
        url = _runner.server_url()
        if self._requester is None or self._url != url:
            self._requester = Requester(url)
            self._url = url
        return self._requester

    def bind(
        self,
        resume: Union[bool, str] = False,
        resume_timeout: float = 600,
        on_wait: Optional[Callable[[str], None]] = None,
    ) -> None:
        """Bind to the server: a run is created and left BOUND (``run()`` drives it). ``resume``:
        when another live run holds this workflow, ask it to step aside ("cold" kills its running
        tasks, "hot" or True… see run()) and wait for it, instead of failing."""
        p = self._prepare()
        api = self._connect()
        _bind.check_clusters(api, self._order, p["resolved"])
        tool = api.post("/tools", {"name": self.tool.name})
        bound_templates = api.post(
            "/task-templates",
            {
                "toolVersionId": tool["toolVersionId"],
                "templates": [
                    {
                        "name": tt.template_name,
                        "commandTemplate": tt.command_template,
                        "nodeArgs": tt.node_args,
                        "taskArgs": tt.task_args,
                        "opArgs": tt.op_args,
                    }
                    for tt in p["templates"]
                ],
            },
        )["templates"]
        version_of = {b["name"]: b["versionId"] for b in bound_templates}
        wf_body: Dict[str, Any] = {
            "toolVersionId": tool["toolVersionId"],
            "argsHash": hashing.workflow_args_hash(self.workflow_args),
            "taskHash": self.task_hash,
            "dagHash": hashing.dag_hash([t.hashes["node"] for t in self._order], p["upstream"]),
            "workflowArgs": self.workflow_args,
            "taskCount": len(self._order),
            "name": self.name,
            "description": self.description,
            "attributes": self.workflow_attributes,
            "templateConcurrency": p["limits"],
        }
        if self.max_concurrently_running is not None:
            wf_body["maxConcurrentlyRunning"] = self.max_concurrently_running
        wf = api.post("/workflows", wf_body)
        self.workflow_id = wf["workflowId"]
        self.dag_id = wf["dagId"]
        self.last_workflow_run_id = None
        self._run_token = None
        if wf["status"] == "DONE":
            for t in self._order:
                t.initial_status = t.final_status = "D"
            return
        mode = None if not resume else resume if resume in ("cold", "hot") else "cold"
        run = _bind.create_run(api, wf["workflowId"], mode, resume_timeout, on_wait)
        run_id = run["runId"]
        self.last_workflow_run_id = run_id
        self._run_token = run.get("runToken")
        try:
            node_ids: List[int] = []
            for start in range(0, len(self._order), TASK_CHUNK):
                chunk = self._order[start : start + TASK_CHUNK]
                body = [
                    _bind.task_body(t, p["resolved"][start + k], version_of[t.template.template_name])
                    for k, t in enumerate(chunk)
                ]
                res = api.put(f"/workflow-runs/{run_id}/tasks", {"tasks": body})
                for t, (node_id, task_id, status) in zip(chunk, res["tasks"]):
                    node_ids.append(node_id)
                    t.task_id = task_id
                    t.initial_status = TASK_LETTER.get(status, status)
            if not wf["dagBound"]:
                edges: List[List[int]] = []
                for d, ups in enumerate(p["upstream"]):
                    for u in ups:
                        edges.append([node_ids[u], node_ids[d]])
                        if len(edges) >= EDGE_CHUNK:
                            api.post(f"/workflow-runs/{run_id}/edges", {"edges": edges})
                            edges = []
                if edges:
                    api.post(f"/workflow-runs/{run_id}/edges", {"edges": edges})
            api.put(f"/workflow-runs/{run_id}/status", {"status": "BOUND", "taskCount": len(self._order)})
        except BaseException:
            try:
                api.put(f"/workflow-runs/{run_id}/status", {"status": "ABORTED"})
            except JobmonError:
                pass
            raise

    def run(
        self,
        fail_fast: bool = False,
        seconds_until_timeout: Optional[float] = 36000,
        resume: bool = False,
        reset_running_jobs: bool = True,
        distributor_startup_timeout: int = 180,
        resume_timeout: int = 300,
        configure_logging: bool = False,
        quiet: bool = False,
    ) -> RunStatus:
        """Bind, run to the end with the ``jobmon`` runner, and return the run's status letter.

        An existing workflow with the same identity is picked up: DONE tasks are kept. With
        ``resume=True`` a live run that holds it is asked to step aside first (its running tasks
        killed with ``reset_running_jobs``, else let finish) and waited for up to
        ``resume_timeout`` seconds. Progress lines go to stderr unless ``quiet``."""
        say: Callable[[str], None] = (lambda _m: None) if quiet else (lambda m: print(m, file=sys.stderr, flush=True))
        runner = _runner.cli_command()  # before anything is bound: a missing runner changes nothing
        del runner
        mode = ("cold" if reset_running_jobs else "hot") if resume else None
        self.bind(resume=mode or False, resume_timeout=resume_timeout, on_wait=say)
        assert self.workflow_id is not None and self._url is not None
        if self.last_workflow_run_id is None:
            say(f"workflow {self.workflow_id} '{self.name}' is already DONE; nothing to run.")
            return self._outcome("DONE", "DONE", None, {})
        proc = _runner.drive_run(
            self.workflow_id, self.last_workflow_run_id, self._url, self._run_token, say, seconds_until_timeout
        )
        summary: Dict[str, Any] = {}
        for line in reversed(proc.stdout.splitlines()):
            try:
                summary = json.loads(line)
                break
            except ValueError:
                continue
        if not summary:
            raise JobmonError(
                f"the runner (`jobmon workflow resume {self.workflow_id} --run {self.last_workflow_run_id}`) "
                f"ended with exit code {proc.returncode} and no result; see its messages above"
            )
        return self._outcome(
            summary.get("runStatus") or "ERROR", summary.get("status", "FAILED"), self.last_workflow_run_id, summary
        )

    def _outcome(self, run_status: str, wf_status: str, run_id: Optional[int], summary: Dict[str, Any]) -> RunStatus:
        assert self.workflow_id is not None
        api = self._connect()
        statuses: Dict[int, str] = {}
        after = 0
        while True:
            page = api.get(f"/workflows/{self.workflow_id}/dag", {"after": after})
            for t in page["tasks"]:
                statuses[t["id"]] = t["status"]
            if page.get("nextAfter") is None:
                break
            after = page["nextAfter"]
        for t in self._order:
            if t.task_id is not None and t.task_id in statuses:
                t.final_status = TASK_LETTER.get(statuses[t.task_id], statuses[t.task_id])
        errors = [] if run_id is None else self.get_errors()
        r = RunStatus(WORKFLOW_RUN_LETTER.get(run_status, run_status))
        r.workflow_id = self.workflow_id
        r.run_id = run_id
        r.workflow_status = WORKFLOW_LETTER.get(wf_status, wf_status)
        r.total = len(self._order)
        r.done = sum(1 for t in self._order if t.final_status == "D")
        r.failed = sum(1 for t in self._order if t.final_status == "F")
        r.errors = errors
        r.summary = summary
        self.last_result = r
        return r

    # --- results -----------------------------------------------------------------------------

    def get_errors(self, limit: int = 1000) -> List[Dict[str, Any]]:
        """Errors of tasks that failed for good: ``taskId``, ``taskName``, ``errorClass``, ``message``,
        ``exitCode``, ``stderrTail``."""
        if self.workflow_id is None:
            raise ValidationError(f"workflow '{self.name}' has not been bound")
        return list(self._connect().get(f"/workflows/{self.workflow_id}/errors", {"limit": limit})["errors"])

    @property
    def task_errors(self) -> Dict[str, List[Dict[str, Any]]]:
        out: Dict[str, List[Dict[str, Any]]] = {}
        for e in self.get_errors():
            out.setdefault(e["taskName"], []).append(e)
        return out


def _check_limit(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{what} must be a whole number ≥ 0", {"value": value})
