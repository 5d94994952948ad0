"""The server's error classes, rebuilt in Python from its ``{code, message, details}`` answer,
and the same classes raised by the checks this client makes before it sends anything. The
message names what to fix ("task 'one_location_17': command template needs argument 'year'")."""

from typing import Any, Dict, Optional, Type


class JobmonError(Exception):
    """Any error of Jobmon; ``code`` is the server's stable code (``JM_…``)."""

    code = "JM_ERROR"
    status = 500

    def __init__(self, message: str, details: Optional[Dict[str, Any]] = None, status: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.details: Dict[str, Any] = dict(details or {})
        if status is not None:
            self.status = status


class ValidationError(JobmonError, ValueError):
    code, status = "JM_VALIDATION", 400


class NotFoundError(JobmonError, LookupError):
    code, status = "JM_NOT_FOUND", 404


class UnauthorizedError(JobmonError):
    code, status = "JM_UNAUTHORIZED", 401


class ForbiddenError(JobmonError):
    code, status = "JM_FORBIDDEN", 403


class IllegalTransitionError(JobmonError):
    code, status = "JM_ILLEGAL_TRANSITION", 409


class CycleError(ValidationError):
    code, status = "JM_DAG_CYCLE", 400


class DuplicateTaskError(ValidationError):
    code, status = "JM_DUPLICATE_TASK", 400


class TemplateArgumentError(ValidationError):
    code, status = "JM_TEMPLATE_ARGS", 400


class UnknownClusterError(ValidationError):
    code, status = "JM_UNKNOWN_CLUSTER", 400


class UnknownQueueError(ValidationError):
    code, status = "JM_UNKNOWN_QUEUE", 400


class InvalidResourcesError(ValidationError):
    code, status = "JM_INVALID_RESOURCES", 400


class WorkflowConflictError(JobmonError):
    code, status = "JM_WORKFLOW_CONFLICT", 409


class WorkflowNotResumableError(JobmonError):
    code, status = "JM_NOT_RESUMABLE", 409


class ServerUnreachableError(JobmonError, ConnectionError):
    code, status = "JM_SERVER_UNREACHABLE", 503


class RequestInProgressError(JobmonError):
    code, status = "JM_REQUEST_IN_PROGRESS", 409


class InternalError(JobmonError):
    code, status = "JM_INTERNAL", 500


class RunnerMissingError(JobmonError, FileNotFoundError):
    """The ``jobmon`` command that runs workflows is not installed where this client looks."""

    code, status = "JM_RUNNER_MISSING", 500


# Jobmon's names for the two a ported script may catch.
DuplicateNodeArgsError = DuplicateTaskError
WorkflowAlreadyExists = WorkflowNotResumableError

_BY_CODE: Dict[str, Type[JobmonError]] = {
    c.code: c
    for c in (
        ValidationError,
        NotFoundError,
        UnauthorizedError,
        ForbiddenError,
        IllegalTransitionError,
        CycleError,
        DuplicateTaskError,
        TemplateArgumentError,
        UnknownClusterError,
        UnknownQueueError,
        InvalidResourcesError,
        WorkflowConflictError,
        WorkflowNotResumableError,
        ServerUnreachableError,
        RequestInProgressError,
        InternalError,
    )
}


def error_from_body(body: Dict[str, Any], status: int) -> JobmonError:
    """The class the server's code names (a plain JobmonError for a code this client does not know)."""
    cls = _BY_CODE.get(str(body.get("code")), JobmonError)
    err = cls(str(body.get("message", "")), body.get("details") or {}, status)
    if cls is JobmonError:
        err.code = str(body.get("code", "JM_ERROR"))
    return err
