#!/usr/bin/env bash
# Stop the daemons that ci/slurm/up.sh started (and recorded) for STATE_DIR.
#
# Usage: ci/slurm/down.sh [STATE_DIR]      (default STATE_DIR=/tmp/sprx-slurm)
#
# Only PIDs recorded in STATE_DIR/{slurmd,slurmctld,munged}.pid are touched, in that
# order, and only if `ps -o comm=` still names the expected daemon (PID-reuse guard).
# Each gets SIGTERM, then SIGKILL after ~10 s. A munged that up.sh reused was never
# recorded and is left alone. Idempotent: exits 0 when nothing is up.
set -euo pipefail

STATE_DIR=${1:-/tmp/sprx-slurm}
KILL_AFTER_S=10

log() { echo "slurm-down: $*" >&2; }

# "alive" = exists and is not a zombie (nothing may reap a daemon whose parent exited).
alive() {
    local stat
    stat=$(ps -o stat= -p "$1" 2>/dev/null || true)
    stat=${stat//[[:space:]]/}
    [[ -n $stat && $stat != Z* ]]
}
comm_of() {
    local c
    c=$(ps -o comm= -p "$1" 2>/dev/null || true)
    echo "${c//[[:space:]]/}"
}

[[ -d $STATE_DIR ]] || { log "nothing to stop ($STATE_DIR does not exist)"; exit 0; }

# Cancel leftover jobs first so no slurmstepd outlives slurmd (only if the
# controller is one we started and is still running).
if [[ -f $STATE_DIR/slurmctld.pid ]]; then
    pid=$(<"$STATE_DIR/slurmctld.pid")
    if [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && [[ $(comm_of "$pid") == slurmctld ]]; then
        job_ids=$(timeout 5 squeue -h -o %A 2>/dev/null | sort -u || true)
        if [[ -n $job_ids ]]; then
            log "cancelling leftover jobs: $(echo "$job_ids" | tr '\n' ' ')"
            # shellcheck disable=SC2086  # word splitting of job ids is intended
            timeout 5 scancel $job_ids 2>/dev/null || true
            for _ in $(seq 50); do
                [[ -z $(timeout 5 squeue -h -o %A 2>/dev/null || true) ]] && break
                sleep 0.1
            done
        fi
    fi
fi

for name in slurmd slurmctld munged; do
    pidfile=$STATE_DIR/$name.pid
    [[ -f $pidfile ]] || continue
    pid=$(<"$pidfile")
    if ! [[ $pid =~ ^[0-9]+$ ]]; then
        log "ignoring malformed $pidfile"
    elif ! alive "$pid"; then
        log "$name (pid $pid) is not running"
    elif [[ $(comm_of "$pid") != "$name" ]]; then
        log "pid $pid is now '$(comm_of "$pid")', not $name: leaving it alone"
    else
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + KILL_AFTER_S))
        while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
        if alive "$pid"; then
            log "$name (pid $pid) ignored SIGTERM for ${KILL_AFTER_S}s: sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        fi
        if alive "$pid"; then
            log "$name (pid $pid) is still running"
            exit 1
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
done
rm -f "$STATE_DIR/cluster.env"
