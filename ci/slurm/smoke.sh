#!/usr/bin/env bash
# Smoke test of the single-node CI cluster: up, a 4-task job array whose tasks
# write files, a dependent (afterok) job that concatenates them, check, down.
#
# Usage: ci/slurm/smoke.sh [STATE_DIR]     (default STATE_DIR=/tmp/sprx-slurm)
# Exit codes: 0 success; 3 skipped (up.sh could not run here); other = failure.
# The daemons are always stopped on exit (trap), whatever happened.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE_DIR=${1:-/tmp/sprx-slurm}
JOB_TIMEOUT_S=120
WORK=""

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "slurm-smoke: $*" >&2; }

cleanup() {
    local rc=$?
    trap - EXIT
    "$HERE/down.sh" "$STATE_DIR" || { log "down.sh failed"; [[ $rc -ne 0 ]] || rc=1; }
    if [[ $rc -eq 0 ]]; then
        [[ -z $WORK ]] || rm -rf "$WORK"
    elif [[ $rc -ne 3 && -n $WORK ]]; then
        log "FAILED (exit $rc); job outputs kept in $WORK"
        tail -n 20 "$STATE_DIR"/slurmctld.log "$STATE_DIR"/slurmd.log >&2 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

t_all=$(date +%s.%N)
rc=0
"$HERE/up.sh" "$STATE_DIR" || rc=$?
if [[ $rc -eq 3 ]]; then
    log "SKIP: cluster could not be brought up (see SKIP reason above)"
    exit 3
elif [[ $rc -ne 0 ]]; then
    log "up.sh failed with exit $rc"
    exit "$rc"
fi

WORK=$(mktemp -d /tmp/sprx-slurm-smoke.XXXXXX)
chmod 0755 "$WORK"

t_jobs=$(date +%s.%N)
# --wrap runs under /bin/sh (dash): no bash-isms in the job bodies.
array_id=$(sbatch --parsable --array=0-3 -J sprx-smoke-array \
    -o "$WORK/slurm-%A_%a.log" \
    --wrap "echo \"task \$SLURM_ARRAY_TASK_ID\" > $WORK/out_\$SLURM_ARRAY_TASK_ID.txt")
array_id=${array_id%%;*}
dep_id=$(sbatch --parsable --dependency="afterok:$array_id" -J sprx-smoke-cat \
    -o "$WORK/slurm-%j.log" \
    --wrap "cat $WORK/out_0.txt $WORK/out_1.txt $WORK/out_2.txt $WORK/out_3.txt > $WORK/all.txt")
dep_id=${dep_id%%;*}
log "submitted array job $array_id and dependent job $dep_id"

"$HERE/wait-job.sh" "$array_id" "$JOB_TIMEOUT_S"
"$HERE/wait-job.sh" "$dep_id" "$JOB_TIMEOUT_S"
jobs_s=$(elapsed "$t_jobs")

for i in 0 1 2 3; do
    [[ $(<"$WORK/out_$i.txt") == "task $i" ]] || { log "bad out_$i.txt"; exit 1; }
done
expected=$(printf 'task %s\n' 0 1 2 3)
if [[ $(<"$WORK/all.txt") != "$expected" ]]; then
    log "all.txt has unexpected content:"; cat "$WORK/all.txt" >&2; exit 1
fi

log "OK: array $array_id (4 tasks) + afterok job $dep_id in ${jobs_s} s; total $(elapsed "$t_all") s before down"
