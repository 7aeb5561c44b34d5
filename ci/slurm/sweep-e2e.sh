#!/usr/bin/env bash
# End-to-end test of `sprx sweep` on a real (single-node) Slurm cluster: build, bring the
# cluster up, run a small sweep locally, write the job scripts with `sprx sweep slurm --shards 3`,
# submit them with the generated submit.sh (a job array, then the merge with afterok), wait,
# and check that the merged outputs are byte-identical to the local run.
#
# Usage: ci/slurm/sweep-e2e.sh [STATE_DIR]     (default STATE_DIR=/tmp/sprx-slurm)
# Exit codes: 0 success; 3 skipped (the cluster cannot run here); other = failure.
# The daemons are always stopped on exit (trap), whatever happened.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STATE_DIR=${1:-/tmp/sprx-slurm}
JOB_TIMEOUT_S=300
WORK=""

log() { echo "sweep-e2e: $*" >&2; }

skip_banner() {
    {
        echo "####################################################################"
        echo "# SKIP: sweep-e2e: $*"
        echo "####################################################################"
    } >&2
}

cleanup() {
    local rc=$?
    trap - EXIT
    "$HERE/down.sh" "$STATE_DIR" || { log "down.sh failed"; [[ $rc -ne 0 ]] || rc=1; }
    if [[ $rc -eq 0 ]]; then
        [[ -z $WORK ]] || rm -rf "$WORK"
    elif [[ $rc -ne 3 && -n $WORK ]]; then
        log "FAILED (exit $rc); files kept in $WORK"
        tail -n 20 "$WORK"/cluster/logs/* 2>/dev/null >&2 || true
        tail -n 20 "$STATE_DIR"/slurmctld.log "$STATE_DIR"/slurmd.log >&2 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

log "building sprx (release)"
(cd "$REPO" && cargo build --release --locked --bin sprx)
SPRX="$REPO/target/release/sprx"
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then SPRX="$CARGO_TARGET_DIR/release/sprx"; fi
[[ -x $SPRX ]] || { log "no binary at $SPRX"; exit 1; }

rc=0
"$HERE/up.sh" "$STATE_DIR" || rc=$?
if [[ $rc -eq 3 ]]; then
    skip_banner "the single-node Slurm cluster could not be brought up (reason above)"
    exit 3
elif [[ $rc -ne 0 ]]; then
    log "up.sh failed with exit $rc"
    exit "$rc"
fi

# Jobs run as the submitting user; a world-readable work dir under /tmp suits root and others.
WORK=$(mktemp -d /tmp/sprx-sweep-e2e.XXXXXX)
chmod 755 "$WORK"
cat >"$WORK/sweep.toml" <<'EOF'
# Small Morris sweep for the Slurm end-to-end test: 3 parameters × 3 trajectories = 12 points.
metrics = ["belonging - no_sp : gp_consults_per_1000_per_year", "belonging : wellbeing_mean"]

[base]
baseline = "no_sp"
[base.run]
seed = 7
weeks = 60
warmup_weeks = 10
[base.population]
pcns = 1
practices_per_pcn = 1
patients_per_practice = 1500
[[base.arm]]
name = "no_sp"
[[base.arm]]
name = "belonging"

[design]
kind = "morris"
trajectories = 3
replicates = 2
seed = 11
bootstrap = 200

[[parameter]]
name = "arm.belonging.lw_per_pcn"
range = [0, 3]

[[parameter]]
name = "need_prevalence.money"
range = [0.05, 0.3]

[[parameter]]
name = "arm.belonging.buy_in0"
range = [0.01, 0.2]
EOF

log "local run"
"$SPRX" sweep "$WORK/sweep.toml" --out "$WORK/local"

log "writing the Slurm scripts (3 shards)"
"$SPRX" sweep slurm "$WORK/sweep.toml" --shards 3 --out "$WORK/cluster" --max-parallel 2 --time 00:10:00
for f in sweep.sbatch merge.sbatch submit.sh; do
    [[ -f $WORK/cluster/$f ]] || { log "missing $f"; exit 1; }
done

log "submitting"
ids=$(bash "$WORK/cluster/submit.sh")
echo "$ids" >&2
array=$(sed -n 's/^ARRAY_JOB_ID=//p' <<<"$ids")
merge=$(sed -n 's/^MERGE_JOB_ID=//p' <<<"$ids")
[[ -n $array && -n $merge ]] || { log "submit.sh printed no job ids"; exit 1; }

"$HERE/wait-job.sh" "$array" "$JOB_TIMEOUT_S"
"$HERE/wait-job.sh" "$merge" "$JOB_TIMEOUT_S"

shards=$(find "$WORK/cluster/shards" -name 'shard-*-of-0003.csv' | wc -l)
[[ $shards -eq 3 ]] || { log "expected 3 shard files, found $shards"; exit 1; }
for f in runs.csv points.csv sensitivity.csv ranking.txt; do
    if ! cmp "$WORK/local/$f" "$WORK/cluster/$f"; then
        log "$f differs between the local run and the cluster run"
        exit 1
    fi
done
[[ -s $WORK/cluster/manifest.json ]] || { log "no manifest.json"; exit 1; }
log "PASS: 3 array tasks + merge job; merged outputs byte-identical to the local run"
