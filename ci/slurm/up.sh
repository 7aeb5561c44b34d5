#!/usr/bin/env bash
# Bring up a single-node Slurm "cluster" (munged + slurmctld + slurmd) on 127.0.0.1.
#
# Usage: ci/slurm/up.sh [STATE_DIR]        (default STATE_DIR=/tmp/sprx-slurm)
#
# Exit codes: 0  cluster is up (node idle); STATE_DIR/cluster.env written
#             3  cannot run here (not root, no apt, install failed, daemons failed
#                to start); "SKIP: <reason>" printed on stderr, anything we started
#                has been stopped
#             other non-zero: a bug in this script
# Must run as root. Needs no systemd. Stop with ci/slurm/down.sh [STATE_DIR].
set -euo pipefail

STATE_DIR=${1:-/tmp/sprx-slurm}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
READY_TIMEOUT_S=${SPRX_SLURM_READY_TIMEOUT:-30}
PACKAGES=(slurmctld slurmd slurm-client munge)
PARTITION=debug

SKIPPING=0
STARTED=0   # set once we may have started a daemon
t0=$(date +%s.%N)

elapsed() { # seconds since $1 (a `date +%s.%N` value), 1 decimal
    awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

log() { echo "slurm-up: $*" >&2; }

show_logs() {
    local f
    # With -D the daemons log to stderr (captured here) as well as /var/log/slurm.
    local files=("$STATE_DIR"/apt.log)
    [[ $STARTED -eq 0 ]] || files+=("$STATE_DIR"/munged.log "$STATE_DIR"/slurmctld.log "$STATE_DIR"/slurmd.log)
    for f in "${files[@]}"; do
        [[ -s $f ]] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 15 "$f" >&2 || true
    done
}

skip() {
    SKIPPING=1
    {
        echo "################################################################"
        echo "SKIP: $*"
        echo "  (single-node Slurm cannot be brought up here; Slurm tests will be skipped)"
        echo "################################################################"
    } >&2
    exit 3
}

on_exit() {
    local rc=$1
    trap - EXIT
    if [[ $rc -ne 0 ]]; then
        [[ $SKIPPING -eq 1 ]] || log "FAILED (exit $rc) - this is a bug in the harness"
        show_logs
        if [[ $STARTED -eq 1 ]]; then
            log "stopping the daemons this run started"
            "$HERE/down.sh" "$STATE_DIR" >&2 || true
        fi
        # An unexpected failure must not masquerade as a skip.
        if [[ $SKIPPING -eq 0 && $rc -eq 3 ]]; then rc=1; fi
    fi
    exit "$rc"
}
trap 'on_exit $?' EXIT

# ---------------------------------------------------------------- preconditions
[[ $(id -u) -eq 0 ]] || skip "up.sh must run as root (uid is $(id -u))"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not found"

# ---------------------------------------------------------------- packages
pkg_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true) == "install ok installed" ]]
}
have_binaries() {
    local b
    for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/munge \
             /usr/bin/unmunge /usr/bin/sbatch /usr/bin/squeue /usr/bin/scontrol /usr/bin/sinfo; do
        [[ -x $b ]] || return 1
    done
}
missing=()
if command -v dpkg-query >/dev/null; then
    for p in "${PACKAGES[@]}"; do pkg_installed "$p" || missing+=("$p"); done
elif ! have_binaries; then
    missing=("${PACKAGES[@]}")
fi

mkdir -p "$STATE_DIR"
APT_LOG=$STATE_DIR/apt.log
rm -f "$APT_LOG"
if [[ ${#missing[@]} -gt 0 ]]; then
    : >"$APT_LOG"
    command -v apt-get >/dev/null || skip "packages missing (${missing[*]}) and no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    ti=$(date +%s.%N)
    updated=0
    candidate=$(apt-cache policy slurmctld 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [[ -z $candidate || $candidate == "(none)" ]]; then
        log "no apt candidate for slurmctld: running apt-get update"
        apt-get update -qq >>"$APT_LOG" 2>&1 || skip "apt-get update failed"
        updated=1
    fi
    log "installing ${PACKAGES[*]} (output in $APT_LOG)"
    if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >>"$APT_LOG" 2>&1; then
        # Stale package lists give 404s: refresh once and retry.
        [[ $updated -eq 0 ]] || skip "apt-get install ${PACKAGES[*]} failed"
        log "install failed: running apt-get update and retrying"
        apt-get update -qq >>"$APT_LOG" 2>&1 || skip "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >>"$APT_LOG" 2>&1 \
            || skip "apt-get install ${PACKAGES[*]} failed"
    fi
    log "installed in $(elapsed "$ti") s"
fi
have_binaries || skip "Slurm/munge binaries missing after install"
id slurm >/dev/null 2>&1 || skip "user 'slurm' does not exist"
id munge >/dev/null 2>&1 || skip "user 'munge' does not exist"

# ---------------------------------------------------------------- leftovers
# Stop daemons recorded by an earlier up.sh on this STATE_DIR, then refuse to
# fight with Slurm daemons that are not ours (they would hold ports 6817/6818).
"$HERE/down.sh" "$STATE_DIR" >&2
rm -f "$STATE_DIR"/cluster.env "$STATE_DIR"/munged.log "$STATE_DIR"/slurmctld.log "$STATE_DIR"/slurmd.log
for d in slurmctld slurmd; do
    # Ignore zombies: an exited daemon can linger as <defunct> until init reaps it.
    other=$(ps -eo pid=,stat=,comm= | awk -v d="$d" '$3 == d && $2 !~ /^Z/ { printf "%s ", $1 }')
    [[ -z $other ]] || skip "a $d not started by this harness is already running (pid ${other% })"
done

# ---------------------------------------------------------------- configuration
NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
[[ -n $NODE && $CPUS -ge 1 && $MEM_MB -ge 1 ]] || skip "cannot determine node name/CPUs/memory"

mkdir -p /etc/slurm
cat >/etc/slurm/slurm.conf <<CONF
# Written by sprx ci/slurm/up.sh - single-node CI cluster on 127.0.0.1
ClusterName=ci
SlurmctldHost=${NODE}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
# A job whose afterok dependency failed is cancelled instead of pending forever.
DependencyParameters=kill_invalid_depend
ReturnToService=2
MailProg=/bin/true
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${MEM_MB} State=UNKNOWN
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# slurmd 22.05 always loads a cgroup plugin; pinning v1 skips autodetection,
# which fails without systemd / on hybrid or missing cgroup mounts.
echo "CgroupPlugin=cgroup/v1" >/etc/slurm/cgroup.conf

# Fresh controller and node state every run (job ids restart at 1).
rm -rf /var/spool/slurmctld /var/spool/slurmd
mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
chown slurm:slurm /var/spool/slurmctld /var/log/slurm
chown munge:munge /run/munge
chmod 0755 /run/munge
: >/var/log/slurm/slurmctld.log
: >/var/log/slurm/slurmd.log
chown slurm:slurm /var/log/slurm/slurmctld.log

if [[ ! -s /etc/munge/munge.key ]]; then
    log "creating /etc/munge/munge.key"
    mungekey --create --keyfile=/etc/munge/munge.key || skip "cannot create munge key"
fi
chown munge:munge /etc/munge/munge.key
chmod 0600 /etc/munge/munge.key

# ---------------------------------------------------------------- start daemons
# Each daemon is started as ONE simple backgrounded command so that $! is the
# daemon itself (-F/-D keep it in the foreground; setpriv execs, unlike su/runuser).
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

STARTED=1
if munge_ok; then
    MUNGE_SRC=reused
    log "reusing the munged that is already running (it will not be stopped by down.sh)"
else
    MUNGE_SRC=ours
    nohup setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F \
        >"$STATE_DIR/munged.log" 2>&1 </dev/null &
    echo "$!" >"$STATE_DIR/munged.pid"
fi

nohup /usr/sbin/slurmctld -D >"$STATE_DIR/slurmctld.log" 2>&1 </dev/null &
echo "$!" >"$STATE_DIR/slurmctld.pid"
nohup /usr/sbin/slurmd -D >"$STATE_DIR/slurmd.log" 2>&1 </dev/null &
echo "$!" >"$STATE_DIR/slurmd.pid"

# ---------------------------------------------------------------- readiness
deadline=$((SECONDS + READY_TIMEOUT_S))
check_alive() {
    local d pid stat
    for d in munged slurmctld slurmd; do
        [[ -f $STATE_DIR/$d.pid ]] || continue
        pid=$(<"$STATE_DIR/$d.pid")
        stat=$(ps -o stat= -p "$pid" 2>/dev/null || true)
        stat=${stat//[[:space:]]/}
        [[ -n $stat && $stat != Z* ]] || skip "$d (pid $pid) exited during startup"
    done
}
wait_for() { # description, command...
    local what=$1; shift
    until "$@"; do
        check_alive
        ((SECONDS < deadline)) || skip "timed out after ${READY_TIMEOUT_S}s waiting for $what"
        sleep 0.1
    done
}
ctld_up() { [[ $(scontrol ping 2>/dev/null || true) == *UP* ]]; }
node_idle() { [[ $(sinfo -h -N -n "$NODE" -o %T 2>/dev/null || true) == idle ]]; }

wait_for "munge (munge -n | unmunge)" munge_ok
wait_for "slurmctld (scontrol ping)" ctld_up
wait_for "node $NODE to be idle (sinfo)" node_idle

cat >"$STATE_DIR/cluster.env" <<ENV
SPRX_SLURM_NODE=$NODE
SPRX_SLURM_PARTITION=$PARTITION
SPRX_SLURM_CPUS=$CPUS
SPRX_SLURM_MEM_MB=$MEM_MB
ENV

echo "slurm-up: UP node=$NODE cpus=$CPUS mem=${MEM_MB}MB partition=$PARTITION munged=$MUNGE_SRC state=$STATE_DIR ($(elapsed "$t0") s)"
