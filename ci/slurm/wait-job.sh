#!/usr/bin/env bash
# Wait for a Slurm job (including every task of a job array) to leave the queue,
# then check that each task ended JobState=COMPLETED with ExitCode=0:0.
#
# Usage: ci/slurm/wait-job.sh JOBID [TIMEOUT_S]     (default TIMEOUT_S=300)
#
# Exit codes: 0    every task COMPLETED with ExitCode 0:0
#             1    some task did not (they are listed on stderr), or the job's
#                  record is gone (finished jobs stay in scontrol for MinJobAge=300 s)
#             2    usage error
#             124  timed out while the job was still queued/running
set -euo pipefail

usage() { echo "usage: $0 JOBID [TIMEOUT_S]" >&2; exit 2; }
[[ $# -ge 1 && $# -le 2 ]] || usage
JOBID=$1
TIMEOUT_S=${2:-300}
[[ $JOBID =~ ^[0-9]+$ && $TIMEOUT_S =~ ^[0-9]+$ ]] || usage

deadline=$((SECONDS + TIMEOUT_S))
while :; do
    # squeue lists only pending/running/completing jobs; a finished job shows nothing.
    # Once purged from the controller, squeue errors with "Invalid job id".
    if out=$(squeue -h -j "$JOBID" -o %i 2>&1); then
        [[ -z $out ]] && break
    elif [[ $out == *"Invalid job id"* ]]; then
        break
    fi   # any other error (controller busy/unreachable): keep polling until timeout
    if ((SECONDS >= deadline)); then
        echo "wait-job: TIMEOUT after ${TIMEOUT_S}s; job $JOBID still in queue:" >&2
        squeue -j "$JOBID" >&2 || true
        exit 124
    fi
    sleep 0.2
done

if ! records=$(scontrol -o show job "$JOBID" 2>&1) || [[ -z $records ]]; then
    echo "wait-job: job $JOBID left the queue but scontrol has no record of it" \
         "(older than MinJobAge?): $records" >&2
    exit 1
fi

# One line per job / array task. Pick fields by exact key (DerivedExitCode is not ExitCode).
failed=$(awk '
    {
        id = ""; task = ""; state = ""; code = ""
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "JobId") id = kv[2]
            else if (kv[1] == "ArrayTaskId") task = kv[2]
            else if (kv[1] == "JobState") state = kv[2]
            else if (kv[1] == "ExitCode") code = kv[2]
        }
        n++
        name = (task != "") ? id " (array task " task ")" : id
        if (state != "COMPLETED" || code != "0:0")
            printf "  job %s: JobState=%s ExitCode=%s\n", name, state, code
    }
    END { if (n == 0) print "  no job records parsed" }' <<<"$records")

ntasks=$(wc -l <<<"$records")
if [[ -n $failed ]]; then
    echo "wait-job: job $JOBID FAILED:" >&2
    echo "$failed" >&2
    exit 1
fi
echo "wait-job: job $JOBID: all $ntasks task(s) COMPLETED with ExitCode 0:0"
