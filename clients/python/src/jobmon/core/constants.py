"""Status codes as Jobmon's ``jobmon.core.constants`` spells them (one letter each), so that a
ported script's ``workflow.run() == WorkflowRunStatus.DONE`` holds; and the maps from the
server's status names (``DONE``, ``ERROR_FATAL``) to those letters."""

from typing import Dict


class WorkflowRunStatus:
    REGISTERED = "G"
    LINKING = "L"
    BOUND = "B"
    ABORTED = "A"
    INSTANTIATED = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    STOPPED = "S"
    ERROR = "E"
    COLD_RESUME = "C"
    HOT_RESUME = "H"
    TERMINATED = "T"


class WorkflowStatus:
    REGISTERING = "G"
    QUEUED = "Q"
    ABORTED = "A"
    INSTANTIATING = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    HALTED = "H"
    FAILED = "F"


class TaskStatus:
    REGISTERING = "G"
    QUEUED = "Q"
    INSTANTIATING = "I"
    LAUNCHED = "O"
    RUNNING = "R"
    DONE = "D"
    ERROR_RECOVERABLE = "E"
    ADJUSTING_RESOURCES = "A"
    ERROR_FATAL = "F"


class MaxConcurrentlyRunning:
    """Jobmon's default limit; here "no limit" (the server's default) unless one is given."""

    MAXCONCURRENTLYRUNNING = 10_000


def _letters(cls: type) -> Dict[str, str]:
    return {k: v for k, v in vars(cls).items() if k.isupper()}


#: Server status name (``DONE``) → Jobmon's letter (``D``).
WORKFLOW_RUN_LETTER: Dict[str, str] = _letters(WorkflowRunStatus)
WORKFLOW_LETTER: Dict[str, str] = _letters(WorkflowStatus)
TASK_LETTER: Dict[str, str] = _letters(TaskStatus)
