#!/usr/bin/env python3
"""CPU of one `jobmon run` split by process: the runner (and its threads: the main one, the
embedded server's worker thread, V8's helpers), each local launcher, and the commands each
launcher waited for. Figures are ms of CPU per task; see cpu-breakdown.md.

usage: python3 bench/cpu-tree.py WORKFLOW_DIR [REPO] [NAME=VALUE ...]
  WORKFLOW_DIR holds workflow.json (python3 ../shared/bench/gen_dag.py 5000 --outdir DIR)
  REPO is the checkout whose packages/cli/bin/jobmon.js runs (default: this one)
  NAME=VALUE pairs are added to the run's environment.
Samples /proc every 20 ms, so the last 20 ms of each process are missing from its own line; the
TOTAL line (getrusage of all waited-for descendants) is exact.
"""
import json, os, resource, shutil, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
d = sys.argv[1]
repo = sys.argv[2] if len(sys.argv) > 2 and '=' not in sys.argv[2] else os.path.dirname(here)
env = dict(os.environ)
home = tempfile.mkdtemp(prefix='jobmon-cpu-')
env['JOBMON_HOME'] = home
for kv in sys.argv[2:]:
    if '=' in kv:
        k, v = kv.split('=', 1)
        env[k] = v
n = len(json.load(open(os.path.join(d, 'workflow.json')))['tasks'])
tck = os.sysconf('SC_CLK_TCK')


def stat(path):
    try:
        s = open(f'/proc/{path}/stat').read()
    except OSError:
        return None
    f = s[s.rindex(')') + 2:].split()
    return dict(ut=int(f[11]), st=int(f[12]), cut=int(f[13]), cst=int(f[14]), cmd=s[s.index('(') + 1:s.rindex(')')])


p = subprocess.Popen(['node', os.path.join(repo, 'packages/cli/bin/jobmon.js'), 'run', os.path.join(d, 'workflow.json'), '--json', '-p', '2'],
                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
last, threads = {}, {}
while p.poll() is None:
    s = stat(p.pid)
    if s:
        last[p.pid] = ('runner', s)
    try:
        for t in os.listdir(f'/proc/{p.pid}/task'):
            st = stat(f'{p.pid}/task/{t}')
            if st:
                threads[t] = st
        kids = open(f'/proc/{p.pid}/task/{p.pid}/children').read().split()
    except OSError:
        kids = []
    for k in kids:
        s = stat(k)
        if s:
            last[int(k)] = ('launcher', s)
    time.sleep(0.02)
out, err = p.communicate()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
ms = lambda ticks: ticks * 1000 / tck / n
summary = json.loads(out.decode().strip().split('\n')[-1])
print(f"TOTAL {(r.ru_utime + r.ru_stime) * 1000 / n:.2f} ms/task (user {r.ru_utime * 1000 / n:.2f}, sys {r.ru_stime * 1000 / n:.2f}); "
      f"{n} tasks, status {summary['status']}, runMs {summary['runMs']}, {n / (summary['runMs'] / 1000):.0f} tasks/s, bindMs {summary.get('bindMs')}")
for pid, (kind, s) in last.items():
    print(f"  {kind:8s} {pid}: own {ms(s['ut'] + s['st']):.2f} (user {ms(s['ut']):.2f}, sys {ms(s['st']):.2f}); "
          f"its waited-for children {ms(s['cut'] + s['cst']):.2f} (user {ms(s['cut']):.2f}, sys {ms(s['cst']):.2f})")
for t, st in sorted(threads.items(), key=lambda x: -(x[1]['ut'] + x[1]['st']))[:6]:
    print(f"    runner thread {t}: user {ms(st['ut']):.2f}, sys {ms(st['st']):.2f}")
shutil.rmtree(home)
