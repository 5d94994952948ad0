#!/usr/bin/env bash
# slurm-local.sh - install, configure and start a real single-node Slurm 22.05 cluster (Debian 12
# packages) for developing and testing the `slurm` distributor, as root, without systemd.
# Adapted from the tested recipe in the project's shared reference (slurm-local.md).
#
# Idempotent: installs only missing packages, rewrites a config file only when its content
# differs, starts only daemons that are not running, restarts the Slurm daemons when their config
# changed. Waits until `sinfo` shows the node idle and `sacct` answers; any failure exits non-zero
# saying what is wrong. Stop with scripts/slurm-local-stop.sh.
#
# Accounting: slurmdbd stores its data in MariaDB. The project's machines run one at
# 127.0.0.1:3306 (root, empty password); it is used when it answers. Otherwise this script starts
# its own mariadbd on 127.0.0.1:3306 with its data in /var/lib/slurm-local/mysql (the stop
# script stops it again).
#
# Memory is enforced by cgroup v1 (task/cgroup, ConstrainRAMSpace): a job over its --mem ends
# OUT_OF_MEMORY. Without usable cgroup v1 (SLURM_LOCAL_CGROUP=no, or auto in a container) it falls
# back to polling (OverMemoryKill: the job ends FAILED 0:9 instead).
#
# REST: two slurmrestd instances (it refuses to run as root unless told to):
#  * unix:/run/slurmrestd/slurmrestd.sock, rest_auth/local, as root (SLURMRESTD_SECURITY=
#    disable_user_check): no token, only root may connect, jobs run as root (like sbatch here);
#  * http://127.0.0.1:6820, rest_auth/jwt, as the unprivileged user `slurmrest` (a token for root
#    is refused): jobs run as slurmrest. Its token (24 h) is written to /run/slurmrestd/token
#    (mode 0600) and to the env file as SLURMRESTD_TOKEN (not SLURM_JWT: the CLI would switch to it).
#
# Knobs: SLURM_LOCAL_CGROUP=auto|yes|no  SLURM_LOCAL_CPUS=N (more than real: config_overrides)
#        SLURM_LOCAL_KILLWAIT=5  SLURM_LOCAL_DB_PORT=3306  SLURM_LOCAL_REST_PORT=6820
set -euo pipefail

CGROUP=${SLURM_LOCAL_CGROUP:-auto}
KILLWAIT=${SLURM_LOCAL_KILLWAIT:-5}
DB_PORT=${SLURM_LOCAL_DB_PORT:-3306}
REST_PORT=${SLURM_LOCAL_REST_PORT:-6820}
REST_USER=slurmrest
REST_DIR=/run/slurmrestd
REST_SOCK=$REST_DIR/slurmrestd.sock
JWT_KEY=/var/lib/slurm/slurmctld/jwt_hs256.key
CLUSTER=local
PARTITION=debug
STATE=/run/slurm-local        # our pid files + env file (volatile)
PERSIST=/var/lib/slurm-local  # packages this script installed, DB password
ETC=/etc/slurm
LOGDIR=/var/log/slurm
PKGS=(munge slurm-client slurmctld slurmd slurmdbd slurmrestd slurm-wlm-jwt-plugin curl)

log() { printf '[slurm-local] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
# wait_until SECONDS CMD... : poll CMD every 0.2 s until it succeeds
wait_until() {
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || return 1
    sleep 0.2
  done
}
source "$(dirname "${BASH_SOURCE[0]}")/slurm-local-lib.sh"
db() { mariadb -h 127.0.0.1 -P "$DB_PORT" -u root "$@"; }
db_up() { db -e 'SELECT 1' >/dev/null 2>&1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts daemons)"
# Daemons inherit open fds: close the caller's (a CI pipe) so `slurm-local.sh | tee` ends.
for fd in /proc/$$/fd/*; do
  fd=${fd##*/}
  [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2 && fd < 255)) && eval "exec $fd>&-" 2>/dev/null || true
done
T_ALL=$(now)
mkdir -p "$STATE" "$PERSIST"

# ---------------------------------------------------------------- 1. install
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
db_up || installed mariadb-server || missing+=(mariadb-server)
if ((${#missing[@]})); then
  t0=$(now)
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  before=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1=="ii"{print $2}' | sort)
  apt-get update -q -o DPkg::Lock::Timeout=600 >"$STATE/apt.log" 2>&1 ||
    {
      tail -20 "$STATE/apt.log" >&2
      die "apt-get update failed (log: $STATE/apt.log)"
    }
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" >>"$STATE/apt.log" 2>&1 ||
    {
      tail -20 "$STATE/apt.log" >&2
      die "apt-get install ${missing[*]} failed (log: $STATE/apt.log)"
    }
  comm -13 <(echo "$before") <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1=="ii"{print $2}' | sort) \
    >>"$PERSIST/installed-packages"
  sort -u -o "$PERSIST/installed-packages" "$PERSIST/installed-packages"
  log "install took $(since "$t0")s"
fi

# ---------------------------------------------------------------- 2. config
mkdir -p "$ETC" "$LOGDIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
chown slurm:slurm "$LOGDIR" /var/lib/slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd

HOST=$(hostname -s)
HW=$(slurmd -C | head -1) || die "slurmd -C failed"
REAL_CPUS=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$HW")
REAL_MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$HW")
[[ -n $REAL_CPUS && -n $REAL_MEM ]] || die "cannot read CPUs/RealMemory from 'slurmd -C': $HW"
MEM=$((REAL_MEM * 95 / 100)) # slurmd drains the node if RealMemory > what it sees
CPUS=${SLURM_LOCAL_CPUS:-$REAL_CPUS}
if ((CPUS == REAL_CPUS)); then
  TOPO=$(grep -o 'CPUs=.*ThreadsPerCore=[0-9]*' <<<"$HW")
  OVERRIDES=""
else
  TOPO="CPUs=$CPUS"
  OVERRIDES="SlurmdParameters=config_overrides"
fi
# Without a default, a job with no --mem gets the whole node and jobs run one at a time.
DEFMEM=$((MEM / CPUS < 1024 ? MEM / CPUS : 1024))

cgroup_v1_usable() {
  local c d
  for c in memory freezer cpuset; do
    awk -v m="/sys/fs/cgroup/$c" '$2==m && $3=="cgroup"{f=1} END{exit !f}' /proc/mounts || return 1
    d=/sys/fs/cgroup/$c/slurm_local_probe.$$
    mkdir "$d" 2>/dev/null || return 1
    rmdir "$d"
  done
}
case $CGROUP in
  yes) cgroup_v1_usable || die "SLURM_LOCAL_CGROUP=yes but cgroup v1 memory/freezer/cpuset are not mounted and writable" ;;
  no) ;;
  auto) if cgroup_v1_usable; then CGROUP=yes; else CGROUP=no; fi ;;
  *) die "SLURM_LOCAL_CGROUP must be auto, yes or no (got '$CGROUP')" ;;
esac
if [[ $CGROUP == yes ]]; then
  PLUGINS="ProctrackType=proctrack/cgroup
TaskPlugin=task/cgroup"
else
  PLUGINS="ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherParams=OverMemoryKill"
fi

# The DB password of slurmdbd's MariaDB user (TCP login, so no unix_socket auth), made once.
if [[ ! -s $PERSIST/db-password ]]; then
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$PERSIST/db-password")
fi
DB_PASS=$(cat "$PERSIST/db-password")

CHANGED=()
# put_file PATH MODE OWNER : write stdin to PATH only if the content differs
put_file() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [[ -f $1 ]] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
  else
    install -m "$2" -o "${3%:*}" -g "${3#*:}" "$tmp" "$1"
    rm -f "$tmp"
    CHANGED+=("$1")
  fi
}

put_file "$ETC/slurm.conf" 0644 root:root <<CONF
# generated by slurm-local.sh - single node, no systemd
ClusterName=$CLUSTER
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$JWT_KEY
MpiDefault=none
$PLUGINS
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
# default batch_sched_delay=3 makes a freed CPU wait up to 3 s for the next job
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$DEFMEM
KillWait=$KILLWAIT
MinJobAge=300
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGDIR/jobcomp.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
$OVERRIDES
NodeName=$HOST NodeAddr=127.0.0.1 $TOPO RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

if [[ $CGROUP == yes ]]; then
  SWAP="ConstrainSwapSpace=no"
  [[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]] && SWAP="ConstrainSwapSpace=yes
AllowedSwapSpace=0"
  put_file "$ETC/cgroup.conf" 0644 root:root <<CONF
# generated by slurm-local.sh - cgroup v1 (22.05's cgroup/v2 needs systemd)
CgroupPlugin=cgroup/v1
ConstrainCores=yes
ConstrainRAMSpace=yes
$SWAP
CONF
elif [[ -f $ETC/cgroup.conf ]] && grep -q slurm-local "$ETC/cgroup.conf"; then
  rm -f "$ETC/cgroup.conf"
  CHANGED+=("$ETC/cgroup.conf")
fi

put_file "$ETC/slurmdbd.conf" 0600 slurm:slurm <<CONF
# generated by slurm-local.sh
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$JWT_KEY
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=slurm
LogFile=$LOGDIR/slurmdbd.log
PidFile=/run/slurmdbd.pid
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
CONF
# The key slurmctld and slurmdbd sign and check REST tokens with (AuthAltParameters above).
if [[ ! -s $JWT_KEY ]]; then
  (umask 077 && head -c 32 /dev/urandom >"$JWT_KEY")
  CHANGED+=("$JWT_KEY")
fi
chown slurm:slurm "$JWT_KEY"
chmod 0600 "$JWT_KEY"
((${#CHANGED[@]})) && log "config written: ${CHANGED[*]}"

# ---------------------------------------------------------------- 3. start
t_start=$(now)
if [[ ! -s /etc/munge/munge.key ]]; then
  mungekey --create --keyfile=/etc/munge/munge.key --force
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
if ! alive /run/munge/munged.pid munged; then
  runuser -u munge -- /usr/sbin/munged
  wait_until 10 alive /run/munge/munged.pid munged || die "munged did not start"
  cp /run/munge/munged.pid "$STATE/munged.pid"
  log "munged started (pid $(cat /run/munge/munged.pid))"
fi
wait_until 10 bash -c 'munge -n | unmunge' || die "munge does not work (munge -n | unmunge)"

# A changed config restarts the Slurm daemons (slurmdbd only for its own file).
if ((${#CHANGED[@]})); then
  stop_pid "$STATE/slurmrestd-local.pid" slurmrestd INT
  stop_pid "$STATE/slurmrestd-jwt.pid" slurmrestd INT
  stop_pid /run/slurmd.pid slurmd
  stop_pid /run/slurmctld.pid slurmctld
  printf '%s\n' "${CHANGED[@]}" | grep -qE 'slurmdbd.conf|jwt' && stop_pid /run/slurmdbd.pid slurmdbd
fi

# MariaDB: the machine's own at 127.0.0.1:$DB_PORT, else ours, in a data directory of its own
# (never the system's /var/lib/mysql, which a stopped or differently configured server may own).
if ! db_up; then
  (exec 3<>"/dev/tcp/127.0.0.1/$DB_PORT") 2>/dev/null &&
    die "something listens on 127.0.0.1:$DB_PORT but MariaDB does not let root in (mariadb -h 127.0.0.1 -P $DB_PORT -u root)"
  DATADIR=$PERSIST/mysql
  install -d -o mysql -g mysql -m 0750 "$DATADIR"
  install -d -o mysql -g mysql -m 0755 "$STATE/mysqld"
  [[ -d $DATADIR/mysql ]] || mariadb-install-db --user=mysql --datadir="$DATADIR" --auth-root-authentication-method=normal >>"$LOGDIR/mariadb.log" 2>&1 ||
    die "mariadb-install-db --datadir=$DATADIR failed, see $LOGDIR/mariadb.log"
  (
    cd /
    exec nohup setsid /usr/sbin/mariadbd --no-defaults --user=mysql --datadir="$DATADIR" \
      --bind-address=127.0.0.1 --port="$DB_PORT" --socket="$STATE/mysqld/mysqld.sock" \
      --pid-file="$STATE/mysqld/mysqld.pid" --innodb-lock-wait-timeout=900 </dev/null >>"$LOGDIR/mariadb.log" 2>&1
  ) &
  echo $! >"$STATE/mariadbd.pid"
  wait_until 60 db_up || die "MariaDB did not start on 127.0.0.1:$DB_PORT, see $LOGDIR/mariadb.log"
  log "mariadb started (pid $(cat "$STATE/mariadbd.pid"), data in $DATADIR)"
fi
db -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
  CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
  CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
  ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';" ||
  die "cannot create database slurm_acct_db / user slurm in MariaDB at 127.0.0.1:$DB_PORT as root"

if ! alive /run/slurmdbd.pid slurmdbd; then
  /usr/sbin/slurmdbd || die "slurmdbd failed to start, see $LOGDIR/slurmdbd.log"
  wait_until 60 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6819' || die "slurmdbd does not listen on 6819, see $LOGDIR/slurmdbd.log"
  cp /run/slurmdbd.pid "$STATE/slurmdbd.pid"
  log "slurmdbd started (pid $(cat /run/slurmdbd.pid))"
fi
if ! alive /run/slurmctld.pid slurmctld; then
  /usr/sbin/slurmctld || die "slurmctld failed to start, see $LOGDIR/slurmctld.log"
  wait_until 30 scontrol ping || die "slurmctld does not answer 'scontrol ping', see $LOGDIR/slurmctld.log"
  cp /run/slurmctld.pid "$STATE/slurmctld.pid"
  log "slurmctld started (pid $(cat /run/slurmctld.pid))"
fi
if ! alive /run/slurmd.pid slurmd; then
  /usr/sbin/slurmd || die "slurmd failed to start, see $LOGDIR/slurmd.log"
  wait_until 10 alive /run/slurmd.pid slurmd || die "slurmd did not start, see $LOGDIR/slurmd.log"
  cp /run/slurmd.pid "$STATE/slurmd.pid"
  log "slurmd started (pid $(cat /run/slurmd.pid))"
fi
node_ready() { sinfo -h -n "$HOST" -o %T | grep -qE '^(idle|mixed|allocated|completing)$'; }
if ! wait_until 30 node_ready; then
  log "node state: $(sinfo -h -n "$HOST" -o '%T %E'); trying RESUME"
  scontrol update NodeName="$HOST" State=RESUME || true
  wait_until 15 node_ready || die "node $HOST is not usable: $(sinfo -h -n "$HOST" -o '%T %E')"
fi
# The controller registers the cluster in slurmdbd by itself; sacct works once that happened.
wait_until 30 bash -c "sacctmgr -n -P list cluster format=cluster | grep -qx $CLUSTER && sacct -n -X -S now-1minutes" ||
  die "sacct does not work: $(sacct -n -X 2>&1 | head -3) (see $LOGDIR/slurmdbd.log, $LOGDIR/slurmctld.log)"

# ---------------------------------------------------------------- 4. slurmrestd
# (see the header). Foreground daemons: detached, pid files in $STATE, stopped with SIGINT.
if ! id -u "$REST_USER" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$REST_USER"
  echo "$REST_USER" >>"$PERSIST/created-users"
fi
install -d -o root -g root -m 0755 "$REST_DIR"
rest_local() { curl -sf --max-time 5 --unix-socket "$REST_SOCK" http://localhost/slurm/v0.0.38/ping; }
rest_jwt() {
  curl -sf --max-time 5 -H "X-SLURM-USER-NAME: $REST_USER" -H "X-SLURM-USER-TOKEN: $TOKEN" \
    "http://127.0.0.1:$REST_PORT/slurm/v0.0.38/ping"
}
if ! alive "$STATE/slurmrestd-local.pid" slurmrestd; then
  rm -f "$REST_SOCK"
  (
    cd /
    exec nohup setsid env SLURMRESTD_SECURITY=disable_user_check /usr/sbin/slurmrestd -a rest_auth/local \
      "unix:$REST_SOCK" </dev/null >>"$LOGDIR/slurmrestd-local.log" 2>&1
  ) &
  echo $! >"$STATE/slurmrestd-local.pid"
  wait_until 15 rest_local || die "slurmrestd on unix:$REST_SOCK does not answer, see $LOGDIR/slurmrestd-local.log"
  log "slurmrestd (unix:$REST_SOCK, local auth, jobs as root) started (pid $(cat "$STATE/slurmrestd-local.pid"))"
fi
# A fresh token on every run (24 h), for the JWT instance's user.
TOKEN=$(scontrol token username="$REST_USER" lifespan=86400 | sed -n 's/^SLURM_JWT=//p')
[[ -n $TOKEN ]] || die "scontrol token username=$REST_USER gave no token (is AuthAltTypes=auth/jwt active?)"
(umask 077 && printf '%s\n' "$TOKEN" >"$REST_DIR/token")
if ! alive "$STATE/slurmrestd-jwt.pid" slurmrestd; then
  # SLURM_JWT=daemon in ITS environment, or every request is refused (401).
  (
    cd /
    exec nohup setsid env SLURM_JWT=daemon /usr/sbin/slurmrestd -u "$REST_USER" -a rest_auth/jwt \
      "127.0.0.1:$REST_PORT" </dev/null >>"$LOGDIR/slurmrestd-jwt.log" 2>&1
  ) &
  echo $! >"$STATE/slurmrestd-jwt.pid"
  wait_until 15 rest_jwt || die "slurmrestd on 127.0.0.1:$REST_PORT does not answer, see $LOGDIR/slurmrestd-jwt.log"
  log "slurmrestd (127.0.0.1:$REST_PORT, jwt auth, jobs as $REST_USER) started (pid $(cat "$STATE/slurmrestd-jwt.pid"))"
fi

{
  echo "SLURM_LOCAL_CLUSTER=$CLUSTER"
  echo "SLURM_LOCAL_PARTITION=$PARTITION"
  echo "SLURM_LOCAL_NODE=$HOST"
  echo "SLURM_LOCAL_CPUS=$CPUS"
  echo "SLURM_LOCAL_MEMORY_MB=$MEM"
  echo "SLURM_LOCAL_CGROUP=$CGROUP"
  echo "SLURMRESTD_SOCKET=$REST_SOCK"
  echo "SLURMRESTD_URL=http://127.0.0.1:$REST_PORT"
  echo "SLURMRESTD_USER=$REST_USER"
  echo "SLURMRESTD_TOKEN_FILE=$REST_DIR/token"
  echo "SLURMRESTD_TOKEN=$TOKEN"
} >"$STATE/env"
chmod 0600 "$STATE/env"
echo "Slurm single-node cluster '$CLUSTER' is up: node $HOST idle ($CPUS CPUs, $MEM MB, partition $PARTITION, cgroup=$CGROUP, accounting=slurmdbd on MariaDB 127.0.0.1:$DB_PORT); daemons $(since "$t_start")s, total $(since "$T_ALL")s"
cat <<EOF
  REST, unix socket (local auth, root only, jobs run as root):
    curl --unix-socket $REST_SOCK http://localhost/slurm/v0.0.38/ping
  REST, TCP with a JWT (jobs run as $REST_USER; token in $REST_DIR/token, also in $STATE/env):
    curl -H "X-SLURM-USER-NAME: $REST_USER" -H "X-SLURM-USER-TOKEN: \$(cat $REST_DIR/token)" http://127.0.0.1:$REST_PORT/slurm/v0.0.38/ping
  OpenAPI document: curl --unix-socket $REST_SOCK http://localhost/openapi/v3
EOF
