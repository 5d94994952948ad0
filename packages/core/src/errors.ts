// Error classes shared by every part. Each has a stable code (JM_…) and an HTTP status; the server
// answers {code, message, details} and the client rebuilds the same class from the code, so an
// error reads the same wherever it was raised. Messages name the thing a user must fix.

export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class JobmonError extends Error {
  static readonly code: string = 'JM_ERROR';
  static readonly status: number = 500;
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    const ctor = this.constructor as typeof JobmonError;
    this.name = ctor.name;
    this.code = ctor.code;
    this.status = ctor.status;
    this.details = details;
    if (!keepStacks()) printAsOneLine(this, options?.cause);
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}

// An uncaught JobmonError in a user's script is printed by Node from `stack`, its enumerable
// properties and its `cause` (util.inspect without custom inspectors). The message already names
// what to fix, so that print is one line: `stack` is the message, code/status/details stay readable
// but unlisted, and `cause` stays readable but is shown as [Getter] rather than as another stack.
// JOBMON_DEBUG=1 keeps the real stack traces (for debugging Jobmon itself).
const keepStacks = () =>
  typeof process !== 'undefined' && ['1', 'true', 'yes'].includes(process.env['JOBMON_DEBUG'] ?? '');

function printAsOneLine(err: JobmonError, cause: unknown): void {
  for (const key of ['code', 'status', 'details']) Object.defineProperty(err, key, { enumerable: false });
  Object.defineProperty(err, 'stack', {
    get: () => `${err.name} [${err.code}]: ${err.message}`,
    set: (value: unknown) =>
      Object.defineProperty(err, 'stack', { value, writable: true, configurable: true, enumerable: false }),
    enumerable: false,
    configurable: true,
  });
  if (cause !== undefined)
    Object.defineProperty(err, 'cause', { get: () => cause, enumerable: false, configurable: true });
}

/** A request or declaration is malformed: a field is missing, mistyped or out of range. */
export class ValidationError extends JobmonError {
  static override readonly code = 'JM_VALIDATION';
  static override readonly status = 400;
}

export class PayloadTooLargeError extends JobmonError {
  static override readonly code = 'JM_PAYLOAD_TOO_LARGE';
  static override readonly status = 413;
}

/** The route exists but not for this method; the answer's Allow header lists the methods it has. */
export class MethodNotAllowedError extends JobmonError {
  static override readonly code = 'JM_METHOD_NOT_ALLOWED';
  static override readonly status = 405;
}

/** The request's headers are larger than the server accepts (Node's limit, 16 KiB by default). */
export class HeadersTooLargeError extends JobmonError {
  static override readonly code = 'JM_HEADERS_TOO_LARGE';
  static override readonly status = 431;
}

export class NotFoundError extends JobmonError {
  static override readonly code = 'JM_NOT_FOUND';
  static override readonly status = 404;
}

/** The request carries no credentials the server accepts (none, unknown, expired or revoked). */
export class UnauthorizedError extends JobmonError {
  static override readonly code = 'JM_UNAUTHORIZED';
  static override readonly status = 401;
}

/** Too many failed authentications from one address lately; details.retryAfterS says how long to wait. */
export class TooManyRequestsError extends JobmonError {
  static override readonly code = 'JM_TOO_MANY_REQUESTS';
  static override readonly status = 429;
}

/** The server's authorisation check refused the request: the principal may not do this. */
export class ForbiddenError extends JobmonError {
  static override readonly code = 'JM_FORBIDDEN';
  static override readonly status = 403;
}

/** A state change that the state tables do not allow. details: {entity, id, from, to}. */
export class IllegalTransitionError extends JobmonError {
  static override readonly code = 'JM_ILLEGAL_TRANSITION';
  static override readonly status = 409;
}

/** The DAG has a cycle. details.cycle lists the task names around it. */
export class CycleError extends JobmonError {
  static override readonly code = 'JM_DAG_CYCLE';
  static override readonly status = 400;
}

export class DuplicateTaskError extends JobmonError {
  static override readonly code = 'JM_DUPLICATE_TASK';
  static override readonly status = 400;
}

/** A template argument is missing, extra or unusable. */
export class TemplateArgumentError extends JobmonError {
  static override readonly code = 'JM_TEMPLATE_ARGS';
  static override readonly status = 400;
}

export class UnknownClusterError extends JobmonError {
  static override readonly code = 'JM_UNKNOWN_CLUSTER';
  static override readonly status = 400;
}

export class UnknownQueueError extends JobmonError {
  static override readonly code = 'JM_UNKNOWN_QUEUE';
  static override readonly status = 400;
}

export class InvalidResourcesError extends JobmonError {
  static override readonly code = 'JM_INVALID_RESOURCES';
  static override readonly status = 400;
}

/** A cluster change that tasks already bound to it forbid (its type). details: {cluster, tasks}. */
export class ClusterInUseError extends JobmonError {
  static override readonly code = 'JM_CLUSTER_IN_USE';
  static override readonly status = 409;
}

/** The same tool version and workflow args already name a workflow with other tasks or edges. */
export class WorkflowConflictError extends JobmonError {
  static override readonly code = 'JM_WORKFLOW_CONFLICT';
  static override readonly status = 409;
}

/** Another live run holds the workflow. */
export class WorkflowNotResumableError extends JobmonError {
  static override readonly code = 'JM_NOT_RESUMABLE';
  static override readonly status = 409;
}

/** The server could not be reached after every retry. */
export class ServerUnreachableError extends JobmonError {
  static override readonly code = 'JM_SERVER_UNREACHABLE';
  static override readonly status = 503;
}

/** Another attempt with the same Idempotency-Key is still running; the requester retries. */
export class RequestInProgressError extends JobmonError {
  static override readonly code = 'JM_REQUEST_IN_PROGRESS';
  static override readonly status = 409;
}

/** An Idempotency-Key was first used for another method or url. */
export class IdempotencyKeyReusedError extends JobmonError {
  static override readonly code = 'JM_IDEMPOTENCY_KEY_REUSED';
  static override readonly status = 422;
}

export class InternalError extends JobmonError {
  static override readonly code = 'JM_INTERNAL';
  static override readonly status = 500;
}

const BY_CODE = new Map<string, typeof JobmonError>(
  [
    ValidationError,
    PayloadTooLargeError,
    MethodNotAllowedError,
    HeadersTooLargeError,
    NotFoundError,
    ForbiddenError,
    IllegalTransitionError,
    CycleError,
    DuplicateTaskError,
    TemplateArgumentError,
    UnknownClusterError,
    UnknownQueueError,
    InvalidResourcesError,
    ClusterInUseError,
    WorkflowConflictError,
    WorkflowNotResumableError,
    ServerUnreachableError,
    RequestInProgressError,
    IdempotencyKeyReusedError,
    InternalError,
  ].map((c) => [c.code, c]),
);

export const ERROR_CLASSES_BY_CODE: ReadonlyMap<string, typeof JobmonError> = BY_CODE;

/** Rebuild the error class a server answered with (keeping the HTTP status it came with); unknown codes become a plain JobmonError. */
export function errorFromBody(body: ErrorBody, status: number): JobmonError {
  const Ctor = BY_CODE.get(body.code) ?? JobmonError;
  const err = new Ctor(body.message, body.details ?? {});
  // The status the server answered with: JM_INTERNAL is a 500 from a bug but a 503 from an outage.
  Object.assign(err, Ctor === JobmonError ? { code: body.code, status } : { status });
  return err;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).code === 'string' &&
    typeof (value as ErrorBody).message === 'string'
  );
}
