#!/usr/bin/env bash
# Stop the single-node SLURM that .ci/slurm-up.sh started (slurmd, slurmctld, munged), by their pid files.
set -u
for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
done
exit 0
