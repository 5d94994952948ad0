#!/usr/bin/env bash
# slurm-local-stop.sh - stop the single-node cluster started by scripts/slurm-local.sh.
# Cancels every job, then stops the two slurmrestd, slurmd, slurmctld, slurmdbd, and the munged / mariadbd that
# slurm-local.sh itself started (a MariaDB or munged that was already running is left alone).
# Processes are signalled by the pid their own pid files name, and only if that pid still runs
# the expected program. Packages, config, job state and the accounting database stay, so the next
# slurm-local.sh starts in about a second. With --slurmdbd-only: stop slurmdbd alone.
set -uo pipefail

STATE=/run/slurm-local
log() { printf '[slurm-local-stop] %s\n' "$*" >&2; }
source "$(dirname "${BASH_SOURCE[0]}")/slurm-local-lib.sh"

[[ $(id -u) -eq 0 ]] || {
  log "run as root"
  exit 1
}
t0=$(date +%s.%N)

# --slurmdbd-only: stop just the accounting daemon (an outage test); jobs and the other daemons
# keep running. scripts/slurm-local.sh starts it again (it starts only what is not running).
if [[ ${1:-} == --slurmdbd-only ]]; then
  stop_pid /run/slurmdbd.pid slurmdbd
  rm -f "$STATE/slurmdbd.pid"
  log "slurmdbd stopped in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
  exit 0
elif [[ -n ${1:-} ]]; then
  log "unknown option '$1' (known: --slurmdbd-only)"
  exit 2
fi

# 1. cancel every job, so no job process outlives the daemons
if alive /run/slurmctld.pid slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
  if [[ -n $jobs ]]; then
    log "cancelling $(wc -w <<<"$jobs") job(s)"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for _ in $(seq 1 100); do
      [[ -z $(squeue -h 2>/dev/null) ]] && break
      sleep 0.2
    done
  fi
fi

# 2. daemons in reverse start order. slurmctld runs as user slurm and cannot remove its pid file
#    in /run: stop_pid removes them (a stale one breaks `apt-get purge slurmctld`).
stop_pid "$STATE/slurmrestd-jwt.pid" slurmrestd INT
stop_pid "$STATE/slurmrestd-local.pid" slurmrestd INT
rm -f /run/slurmrestd/slurmrestd.sock /run/slurmrestd/token
stop_pid /run/slurmd.pid slurmd
stop_pid /run/slurmctld.pid slurmctld
stop_pid /run/slurmdbd.pid slurmdbd
rm -f "$STATE/slurmd.pid" "$STATE/slurmctld.pid" "$STATE/slurmdbd.pid"
stop_pid "$STATE/mariadbd.pid" mariadbd
stop_pid "$STATE/munged.pid" munged
rm -f "$STATE/env"

# 3. empty cgroup v1 directories slurmd left (rmdir removes only empty ones)
for d in /sys/fs/cgroup/*/slurm_"$(hostname -s)"; do
  [[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
done
log "stopped in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
exit 0
