"""Binding's parts that need no workflow object: the checks made before anything is written (a
cycle, unknown clusters and queues), the task body the server takes, and the run that claims a
workflow (asking a live holder to step aside, or ending one whose process is provably gone), as
packages/client/src/bind.ts and process.ts do."""

import getpass
import os
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Set

from jobmon import __version__
from jobmon.client.task import Task
from jobmon.core.exceptions import (
    CycleError,
    IllegalTransitionError,
    UnknownClusterError,
    UnknownQueueError,
    WorkflowNotResumableError,
)
from jobmon.core.requester import Requester


def check_clusters(api: Requester, tasks: List[Task], resolved: List[Dict[str, Any]]) -> None:
    """Every task's cluster, queue and fallback queues exist: named before anything is written."""
    clusters = {c["name"]: c for c in api.get("/clusters")["clusters"]}
    for t, r in zip(tasks, resolved):
        c = clusters.get(r["cluster"])
        where = f"task '{t.name}'"
        if c is None:
            raise UnknownClusterError(
                f"{where}: unknown cluster '{r['cluster']}' (known: {', '.join(clusters)})",
                {"task": t.name, "cluster": r["cluster"]},
            )
        names = [q["name"] for q in c["queues"]]
        for q in ([r["queue"]] if r["queue"] is not None else []) + list(t.fallback_queues or []):
            if q not in names:
                raise UnknownQueueError(
                    f"{where}: cluster '{r['cluster']}' has no queue '{q}' (known: {', '.join(names)})",
                    {"task": t.name, "queue": q, "cluster": r["cluster"]},
                )


def task_body(t: Task, r: Dict[str, Any], version_id: int) -> Dict[str, Any]:
    """The PUT /workflow-runs/{id}/tasks item of one task, as packages/client/src/bind.ts builds it."""
    body: Dict[str, Any] = {
        "nodeHash": t.hashes["node"],
        "taskArgsHash": t.hashes["task_args"],
        "templateVersionId": version_id,
        "nodeArgs": t.node_args,
        "taskArgs": t.task_args,
        "name": t.name,
        "command": t.command,
        "maxAttempts": r["max_attempts"],
        "cluster": r["cluster"],
        "resources": r["resources"],
    }
    if r["queue"] is not None:
        body["queue"] = r["queue"]
    if r["scales"]:
        body["resourceScales"] = r["scales"]
    fallback = t.fallback_queues
    if fallback:
        body["fallbackQueues"] = fallback
    if t.task_attributes:
        body["attributes"] = t.task_attributes
    return body


def create_run(
    api: Requester,
    workflow_id: int,
    mode: Optional[str],
    timeout_s: float,
    on_wait: Optional[Callable[[str], None]],
) -> Dict[str, Any]:
    """A run that claims the workflow. A live holder is asked to step aside when ``mode`` is
    "cold" or "hot" (and waited for), ended at once when its process is provably gone from this
    host, and otherwise refused with a message saying how to take over."""
    body: Dict[str, Any] = {
        "user": _user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "jobmonVersion": __version__,
    }
    start = _process_start(os.getpid())
    if start:
        body["processStart"] = start
    cwd = os.getcwd()
    if len(cwd) <= 4096 and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in cwd):
        body["cwd"] = cwd
    deadline = time.monotonic() + timeout_s
    asked: Optional[int] = None
    reaped: Set[int] = set()
    while True:
        try:
            run: Dict[str, Any] = api.post(f"/workflows/{workflow_id}/runs", body)
            return run
        except WorkflowNotResumableError as e:
            d = e.details
            holder = d.get("runId")
            if not isinstance(holder, int):
                raise
            if (
                d.get("host") == body["host"]
                and isinstance(d.get("pid"), int)
                and isinstance(d.get("processStart"), str)
                and holder not in reaped
                and _provably_gone(d["pid"], d["processStart"])
            ):
                reaped.add(holder)
                api.post(
                    f"/workflow-runs/{holder}/reap",
                    {"host": body["host"], "pid": d["pid"], "processStart": d["processStart"]},
                )
                if on_wait:
                    on_wait(
                        f"run {holder} held the workflow, but its process (pid {d['pid']} on this host) is gone; ended it, taking over"
                    )
                continue
            if mode is None:
                raise WorkflowNotResumableError(f"{e.message} (run(resume=True) takes it over)", e.details) from None
            if time.monotonic() > deadline:
                raise WorkflowNotResumableError(
                    f"{e.message} (gave up waiting for it after {timeout_s:g} s)", e.details
                ) from None
            if asked != holder:
                try:
                    api.post(f"/workflows/{workflow_id}/resume", {"mode": mode})
                    asked = holder
                    if on_wait:
                        on_wait(f"asked run {holder} to step aside ({mode} resume); waiting for it to end")
                except IllegalTransitionError:
                    pass
            time.sleep(0.25)


# --- running -----------------------------------------------------------------------------


def check_acyclic(upstream: List[List[int]], names: List[str]) -> None:
    n = len(upstream)
    indeg = [len(u) for u in upstream]
    down: List[List[int]] = [[] for _ in range(n)]
    for d, ups in enumerate(upstream):
        for u in ups:
            down[u].append(d)
    queue = [i for i in range(n) if indeg[i] == 0]
    seen = 0
    while queue:
        u = queue.pop()
        seen += 1
        for d in down[u]:
            indeg[d] -= 1
            if indeg[d] == 0:
                queue.append(d)
    if seen == n:
        return
    start = next(i for i in range(n) if indeg[i] > 0)
    path: List[int] = []
    at: Dict[int, int] = {}
    while start not in at:
        at[start] = len(path)
        path.append(start)
        start = next(u for u in upstream[start] if indeg[u] > 0)
    cycle = list(reversed(path[at[start] :]))
    loop = [names[i] for i in cycle + [cycle[0]]]
    raise CycleError(f"the DAG has a cycle: {' → '.join(loop)}", {"cycle": loop[:-1], "stuckTasks": n - seen})


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return os.environ.get("USER", "unknown")


def _boot_id() -> Optional[str]:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return None


def _process_start(pid: int) -> Optional[str]:
    """``<boot id>:<start time>`` as packages/client/src/process.ts records it."""
    boot = _boot_id()
    if boot is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="latin1") as f:
            stat = f.read()
    except OSError:
        return None
    rest = stat[stat.rindex(")") + 2 :].split(" ")
    if rest[0] in ("Z", "X"):
        return None
    return f"{boot}:{rest[19]}"


def _provably_gone(pid: int, recorded: str) -> bool:
    boot = _boot_id()
    if not recorded or boot is None:
        return False
    if not recorded.startswith(f"{boot}:"):
        return True
    return _process_start(pid) != recorded
