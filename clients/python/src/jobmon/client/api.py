"""Jobmon's ``jobmon.client.api``: the names a control script imports in one line."""

from jobmon.client.task import Task
from jobmon.client.task_template import TaskTemplate
from jobmon.client.tool import Tool
from jobmon.client.workflow import RunStatus, Workflow
from jobmon.core.constants import TaskStatus, WorkflowRunStatus, WorkflowStatus

__all__ = ["Tool", "TaskTemplate", "Task", "Workflow", "RunStatus", "WorkflowRunStatus", "WorkflowStatus", "TaskStatus"]
