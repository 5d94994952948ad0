# Shared by slurm-local.sh and slurm-local-stop.sh (sourced; each defines log()): finding and
# stopping a daemon by its pid file, touching only a process of the expected name.

# alive PIDFILE COMM : the pid in PIDFILE is a live process named COMM
alive() {
  local pid
  [[ -s $1 ]] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ $(cat /proc/"$pid"/comm 2>/dev/null) == "$2"* ]]
}

# stop_pid PIDFILE COMM [SIGNAL] : SIGNAL (default TERM; slurmrestd: INT) that process (only if it
# is COMM), wait up to 20 s, then SIGKILL; remove PIDFILE (a stale one breaks `apt-get purge slurmctld`)
stop_pid() {
  local pid
  if alive "$1" "$2"; then
    pid=$(cat "$1")
    log "stopping $2 (pid $pid)"
    kill -"${3:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$2 ($pid) still there after 20 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  rm -f "$1"
}
