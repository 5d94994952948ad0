#!/usr/bin/env python3
"""Checks that each fault-injection case depends on its recovery path: remove the path (a source
edit), rebuild, run the case, expect it to FAIL, restore. Slow (a build per mutation); not part of
CI. Usage: python3 scripts/fault-mutations.py [name ...]"""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULTS = 'packages/client/test/faults.test.ts'
REAPER = 'packages/server/test/reaper.test.ts'

E2E = 'packages/client/test/e2e.test.ts'
OUTAGE = 'packages/client/test/outage.outage.test.ts'
REPLICAS = 'packages/server/test/replicas.test.ts'

# name, [(file, old, new)], test file, test name filter[, extra environment]
MUTATIONS = [
    ('infrastructure errors refund the attempt', [('packages/server/src/services/cascade.ts',
        "      num = Math.max(0, num - 1);\n      infra += 1;\n      next = infra >= task.max_infra_failures ? 'ERROR_FATAL' : 'REGISTERING';",
        "      next = num >= task.max_attempts ? 'ERROR_FATAL' : 'REGISTERING';")], FAULTS, 'kill -9 of a running command'),
    ('dummy triage', [('packages/runner/src/distributors/dummy.ts',
        "  async triage(instanceIds: number[]): Promise<void> {\n",
        "  async triage(instanceIds: number[]): Promise<void> {\n    if (instanceIds.length > 0) return;\n")], FAULTS, 'worker wrapper'),
    ('proof of life (heartbeat, late report, triage says alive)', [
        ('packages/worker/src/worker.ts', "via: ['RUNNING'], exitCode: 0,", "exitCode: 0,"),
        ('packages/server/src/services/instances.ts', "    } else if (status === 'TRIAGING') {", "    } else if ((status as string) === 'NEVER') {"),
        ('packages/runner/src/distributors/dummy.ts', "        void host.report({ id, to: 'RUNNING', nextReportMs: host.instanceReportByMs });\n        continue;", "        continue;"),
    ], FAULTS, 'SIGSTOP'),
    ('the reaper ends lapsed runs', [('packages/server/src/services/reaper.ts',
        "report.runs = await withTx(this.db, (tx) => reapLapsedRuns(tx, undefined, this.upSince), now);", "")], FAULTS, 'kill -9 of the runner'),
    ('launchers kill their commands when the runner dies', [('packages/worker/src/launcher.ts',
        "  for (const h of running.values()) h.kill('SIGKILL');", "")], FAULTS, 'kill -9 of the runner'),
    ('a restarted server gives runners a window', [('packages/server/src/services/reaper.ts',
        "reapLapsedRuns(tx, undefined, this.upSince)", "reapLapsedRuns(tx, undefined, undefined)")], FAULTS, 'server restart'),
    ('the runner obeys a resume request', [('packages/runner/src/run.ts',
        "    if (serverSaid !== undefined || to === 'RUNNING') return;", "    return;")], FAULTS, 'resume from a second process'),
    ('local enforces limits', [('packages/worker/src/process-group.ts',
        "    breach = b;\n    killGroup('SIGKILL');", "    breach = b;")], 'packages/client/test/resources.test.ts', 'kills a task'),
    ('the server scales a retry', [('packages/server/src/services/runs.ts',
        "      if (r.status !== 'ADJUSTING_RESOURCES' || overrides.has(r.id)) continue;", "      continue;")], 'packages/client/test/resources.test.ts', 'retries it with 50 %'),
    ('only the newest instance moves its task', [('packages/server/src/services/instances.ts',
        "    if (inst.id !== task.latest) continue;\n", "")], REAPER, 'superseded|dead run'),
    ('the runner rides out an outage longer than the requester default', [('packages/runner/src/run.ts',
        "    retries: Infinity,\n    retryForMs: toleranceMs,", "    retries: 8,\n    retryForMs: toleranceMs,")],
        OUTAGE, 'rides out 60 s', {'JOBMON_TEST_LANE': 'outage'}),
    ('the runner hears a stop through the event log', [('packages/runner/src/run.ts',
        "if (e.entityId === opts.runId && e.actor !== 'swarm'", "if (e.entityId === -1 && e.actor !== 'swarm'")], FAULTS, 'cold stop that lands just before'),
    ('a drained run whose tasks all finished ends DONE', [('packages/core/src/states.ts',
        "    ['HOT_RESUME', 'DONE', 'swarm', 'every task finished while the run drained'],\n", "")], FAULTS, 'hot stop that lands just before'),
    ('a dead runner on this host is taken over at once', [('packages/client/src/bind.ts',
        "!reaped.has(holder) && provablyGone(pid, heldBy)", "!reaped.has(holder) && false")], FAULTS, 'taken over without waiting'),
    ('triage kills only groups its own worker announced', [('packages/runner/src/distributors/dummy.ts',
        "      const group = this.groups.get(id);\n",
        "      const recorded = (await host.requester.get<{ instances: { id: number; pgid: number | null }[] }>(`/workflow-runs/${host.runId}/instances?status=TRIAGING`)).instances.find((i) => i.id === id)?.pgid;\n"
        "      const group = recorded ? { pgid: recorded, start: startTime(recorded) ?? '' } : undefined;\n")], FAULTS, 'never a pgid taken from the API'),
    ('report text is stored safely (the NUL batch)', [('packages/server/src/services/instances.ts',
        "const tail = (s: string) => cleanText(s.length > TAIL ? s.slice(-TAIL) : s);", "const tail = (s: string) => (s.length > TAIL ? s.slice(-TAIL) : s);")],
        E2E, 'a NUL byte in a task', {'JOBMON_TEST_DB': 'postgres'}),
    ('a report that could not be sent never crashes the runner', [('packages/runner/src/reporter.ts',
        "        p.settle(undefined);\n      }\n    } finally", "        void Promise.reject(e);\n        p.settle(undefined);\n      }\n    } finally")],
        'packages/runner/src/reporter.test.ts', 'isolates an item'),
    ('one refused report does not lose its batch', [('packages/runner/src/reporter.ts',
        "      } else if (batch.length > 1) {", "      } else if (batch.length < 0) {")], 'packages/runner/src/reporter.test.ts', 'isolates an item'),
    ('a task\'s leftovers are ended when it exits', [('packages/worker/src/process-group.ts',
        "endLeftovers({ pgid: pid, cookie, since }, groupSignalled)", "Promise.resolve(undefined)")], 'packages/worker/test/worker.test.ts', 'leaves behind'),
    ('descendants that left the group are found by their cookie', [('packages/worker/src/leftovers.ts',
        "environ.includes(t.cookie)", "false")], 'packages/worker/test/worker.test.ts', 'leaves behind'),
    ('the log cap', [('packages/worker/src/capped-log.ts',
        "const room = Math.max(0, this.capBytes - this.written);", "const room = Infinity;")], 'packages/worker/test', 'cap'),
    ('logs are appended to', [('packages/worker/src/capped-log.ts',
        "openSync(this.path, 'a')", "openSync(this.path, 'w')")], 'packages/worker/test/process-group.test.ts', 'appended'),
    ('a pipe held beyond reach does not hold the result', [('packages/worker/src/process-group.ts',
        "          child.stdout?.destroy();\n          child.stderr?.destroy();\n", "")], 'packages/worker/test/process-group.test.ts', 'beyond reach'),
    ('a task whose instance finished before its kill arrived ends DONE', [('packages/server/src/services/cascade.ts',
        "      return { ...same, path: forward(task.status, 'DONE') };", "      return step('DONE');")],
        'packages/server/src/services/cascade.test.ts', 'KILL_SELF'),
    ('a compare-and-set miss in a batch is that item\'s result', [('packages/server/src/services/instances.ts',
        "      results.set(p, await moved(tx, p.item, p.inst, p.task, p.origInstance, 'task instance'));",
        "      throw new NotFoundError(`task instance ${p.inst.id} moved concurrently; retry`);"), ('packages/server/src/services/instances.ts',
        "    return moved(tx, item, inst, task, origInstance, 'task instance');",
        "    throw new NotFoundError(`task instance ${inst.id} moved concurrently; retry`);")],
        'packages/server/test/batch-cas.test.ts', 'someone moved first|names an instance twice'),
    ('a compare-and-set miss in a batch is that item\'s result (PostgreSQL)', [('packages/server/src/services/instances.ts',
        "if (!tasksMoved.has(p.task.id)) results.set(p, await moved(tx, p.item, p.inst, p.task, p.origInstance, 'task'));",
        "if (!tasksMoved.has(p.task.id)) throw new NotFoundError(`task ${p.task.id} moved; retry`);")],
        'packages/server/test/batch-cas.test.ts', 'task someone moved first', {'JOBMON_TEST_DB': 'postgres'}),
    ('queueing checks the rows it moved', [('packages/server/src/services/runs.ts',
        "        await expectMoved(tx, 'task', part, moved, [from], 'QUEUED', `queueing for workflow run ${runId}`);\n", "")],
        'packages/server/test/guarded-writes.test.ts', 'queueing'),
    ('one reaper at a time', [('packages/server/src/db/queries/lease.ts',
        "where lease.holder = excluded.holder or lease.expires_at < ${now}", "where true")],
        REPLICAS, 'one replica reaps', {'JOBMON_TEST_DB': 'postgres'}),
    ('a clean shutdown hands the reaper over', [('packages/server/src/services/reaper.ts',
        "await releaseLease(this.db, LEASE, this.opts.lease.holder)", "await Promise.resolve()")],
        REPLICAS, 'one replica reaps', {'JOBMON_TEST_DB': 'postgres'}),
    ('a new reaper lease holder gives runners a window', [('packages/server/src/services/reaper.ts',
        "      if (!held) this.noteOutage();", "")], REAPER, 'takes the reaper lease over'),
    ('followers woken through NOTIFY', [('packages/server/src/db/dialects/postgres.ts',
        "await sql`notify jobmon_events`.execute(conn);", "await Promise.resolve();")],
        REPLICAS, 'wakes within', {'JOBMON_TEST_DB': 'postgres'}),
    ('the event listener reconnects', [('packages/server/src/services/event-listener.ts',
        "      if (!closed) {\n        retry", "      if (closed) {\n        retry")],
        REPLICAS, 'reconnects', {'JOBMON_TEST_DB': 'postgres'}),
    ('the long-poll wake-up', [('packages/server/src/services/tx.ts',
        "  if (events.length > 0) eventBus.emit('committed', events.length);", "")], 'packages/server/test/api.test.ts', 'long-polls the event log'),
    ('dependents within milliseconds (a 700 ms delay before queueing what became ready)', [('packages/runner/src/swarm/swarm.ts',
        "    this.opts.port\n      .queue(batch.map((i) => this.opts.tasks.ids[i]!))\n",
        "    new Promise((r) => setTimeout(r, 700))\n      .then(() => this.opts.port.queue(batch.map((i) => this.opts.tasks.ids[i]!)))\n")],
        E2E, 'dependents within milliseconds'),
    ('event appends are ordered to commit (PostgreSQL)', [('packages/server/src/db/dialects/postgres.ts',
        "await sql`select pg_advisory_xact_lock(${EVENT_APPEND_LOCK})`.execute(conn);", "await Promise.resolve(EVENT_APPEND_LOCK);")],
        'packages/server/test/events-follow.test.ts', 'commits late', {'JOBMON_TEST_DB': 'postgres'}),
]

def sh(cmd):
    return subprocess.run(cmd, shell=True, cwd=ROOT, capture_output=True, text=True)

only = sys.argv[1:]
survivors = 0
for name, edits, test_file, pattern, *extra in MUTATIONS:
    env = ' '.join(f'{k}={v}' for k, v in (extra[0] if extra else {}).items())
    if only and not any(o in name for o in only):
        continue
    saved = {}
    try:
        for path, old, new in edits:
            p = os.path.join(ROOT, path)
            src = saved.setdefault(p, open(p).read())
            cur = open(p).read()
            if old not in cur:
                raise SystemExit(f'{name}: pattern not found in {path}; update this script')
            open(p, 'w').write(cur.replace(old, new, 1))
        sh('npm run build')
        r = sh(f"{env} npx vitest run {test_file} -t '{pattern}'")
        failed = r.returncode != 0
        survivors += 0 if failed else 1
        print(f"{'ok      ' if failed else 'SURVIVED'}  {name}  ({test_file} -t '{pattern}')", flush=True)
    finally:
        for p, src in saved.items():
            open(p, 'w').write(src)
sh('npm run build')
print(f'{survivors} mutation(s) survived')
sys.exit(1 if survivors else 0)
