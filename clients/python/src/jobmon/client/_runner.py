"""Where the server is and who runs the workflow. Binding is HTTP; running is the project's runner,
the ``jobmon`` command (``jobmon workflow resume <id> --run <runId>``), found as $JOBMON_CLI (a
command line, e.g. ``node /src/jobmon-ts/packages/cli/bin/jobmon.js`` or ``npx jobmon``) or as
``jobmon`` on PATH. With no $JOBMON_URL this process starts ``jobmon server --port 0`` over the
default database (~/.jobmon/jobmon.db; $JOBMON_DB moves it), reads the URL it prints, and stops
it when Python exits: the same state the TypeScript client's embedded default uses."""

import atexit
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from typing import IO, Callable, List, Optional

from jobmon.core.exceptions import RunnerMissingError, ServerUnreachableError

INSTALL_HINT = (
    "Python binds workflows over HTTP but runs them with the `jobmon` command of Jobmon for TypeScript "
    "(Node.js >= 20.10). Install it: in a checkout of jobmon-ts run `npm ci`, then either "
    '`export JOBMON_CLI="node $PWD/packages/cli/bin/jobmon.js"` or `npm link -w packages/cli` to put '
    "`jobmon` on PATH."
)


def cli_command() -> List[str]:
    """The command line that starts ``jobmon``."""
    given = os.environ.get("JOBMON_CLI")
    if given:
        cmd = shlex.split(given)
        if cmd and (shutil.which(cmd[0]) or os.path.exists(cmd[0])):
            return cmd
        raise RunnerMissingError(f"JOBMON_CLI={given!r}: {cmd[0] if cmd else '(empty)'} is not found. {INSTALL_HINT}")
    found = shutil.which("jobmon")
    if found:
        return [found]
    raise RunnerMissingError(f"the `jobmon` command is not on PATH and JOBMON_CLI is not set. {INSTALL_HINT}")


class LocalServer:
    """A ``jobmon server --port 0`` child of this process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            cli_command() + ["server", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        m = re.search(r"listening on (\S+)", first)
        if not m:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            self.proc.wait()
            raise ServerUnreachableError(f"`jobmon server` did not start: {(first + err).strip()[:500]}")
        self.url = m.group(1)
        # Keep reading its output so that it never blocks on a full pipe.
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=_drain, args=(stream,), daemon=True).start()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _drain(stream: Optional[IO[str]]) -> None:
    if stream is None:
        return
    for _ in stream:
        pass


_local: Optional[LocalServer] = None
_lock = threading.Lock()


def server_url() -> str:
    """$JOBMON_URL, else the URL of this process's local server (started on first use)."""
    url = os.environ.get("JOBMON_URL")
    if url:
        return url.rstrip("/")
    global _local
    with _lock:
        if _local is None or _local.proc.poll() is not None:
            _local = LocalServer()
            atexit.register(_local.stop)
        return _local.url


def stop_local_server() -> None:
    """Stop the local server this process started, if any (it stops at exit anyway)."""
    global _local
    with _lock:
        if _local is not None:
            _local.stop()
            _local = None


def drive_run(
    workflow_id: int,
    run_id: int,
    url: str,
    run_token: Optional[str],
    on_line: Callable[[str], None],
    timeout_s: Optional[float] = None,
) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    """Run ``jobmon workflow resume <id> --run <runId> --json`` here; stream its stderr (progress,
    warnings) line by line; Ctrl-C or the timeout stop it cleanly (SIGINT), as Ctrl-C stops a run."""
    env = dict(os.environ, JOBMON_URL=url)
    if run_token:
        env["JOBMON_RUN_TOKEN"] = run_token
    cmd = cli_command() + ["workflow", "resume", str(workflow_id), "--run", str(run_id), "--json"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, text=True
    )
    out: List[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
    reader.start()

    def pump() -> None:
        for line in proc.stderr or []:
            on_line(line.rstrip("\n"))

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    try:
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            on_line(f"jobmon: seconds_until_timeout ({timeout_s:g} s) passed; stopping the run")
            proc.send_signal(2)
            proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(2)
        proc.wait()
        reader.join()
        pumper.join()
        print(f"jobmon: run stopped; run the script again to resume workflow {workflow_id}", file=sys.stderr)
        raise
    reader.join()
    pumper.join()
    return subprocess.CompletedProcess(cmd, proc.returncode, "".join(out), "")
