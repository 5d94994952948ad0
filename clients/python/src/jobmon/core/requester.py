"""The HTTP requester: JSON over urllib to ``<url>/api/v1``. As the TypeScript requester does,
every non-GET request carries one Idempotency-Key on all its attempts (so a retry after a lost
answer is the same request), an unreachable server or a 502/503/504 is retried with backoff, and
an error answer becomes the error class its code names."""

import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, Optional

from jobmon.core.exceptions import InternalError, JobmonError, ServerUnreachableError, error_from_body

_TRANSIENT = {502, 503, 504, 429}


class Requester:
    def __init__(self, url: str, token: Optional[str] = None, retries: int = 8, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.token = token if token is not None else (os.environ.get("JOBMON_TOKEN") or None)
        self.retries = retries
        self.timeout = timeout

    def send(self, method: str, path: str, body: Any = None, query: Optional[Dict[str, Any]] = None) -> Any:
        url = f"{self.url}/api/v1{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        if method != "GET":
            headers["idempotency-key"] = str(uuid.uuid4())
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        route = f"{method} {path}"
        last: Optional[BaseException] = None
        server_errors = 0
        first_failure: Optional[float] = None
        for attempt in range(self.retries + 1):
            if attempt > 0:
                base = min(10.0, 0.25 * 2 ** (attempt - 1))
                time.sleep(base / 2 + random.random() * base / 2)
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    text = res.read().decode("utf-8")
                    return json.loads(text) if text else None
            except urllib.error.HTTPError as e:
                text = e.read().decode("utf-8", "replace")
                try:
                    parsed = json.loads(text) if text else None
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict) and "code" in parsed and "message" in parsed:
                    err: JobmonError = error_from_body(parsed, e.code)
                else:
                    err = InternalError(f"{route} answered HTTP {e.code}: {text[:200]}", {"status": e.code})
                if (
                    e.code in _TRANSIENT
                    or err.code == "JM_REQUEST_IN_PROGRESS"
                    or (e.code >= 500 and server_errors < 2)
                ):
                    server_errors += 1 if e.code >= 500 else 0
                    last = err
                    first_failure = first_failure or time.monotonic()
                    continue
                raise err from None
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
                last = e
                first_failure = first_failure or time.monotonic()
                continue
        if isinstance(last, JobmonError):
            raise last
        secs = time.monotonic() - (first_failure or time.monotonic())
        raise ServerUnreachableError(
            f"cannot reach the Jobmon server at {self.url} ({route}): {last}; "
            f"gave up after {self.retries + 1} attempts over {secs:.1f} s",
            {"url": self.url, "route": route},
        )

    def get(self, path: str, query: Optional[Dict[str, Any]] = None) -> Any:
        return self.send("GET", path, None, query)

    def post(self, path: str, body: Any) -> Any:
        return self.send("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.send("PUT", path, body)
