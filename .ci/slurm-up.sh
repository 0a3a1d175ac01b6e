#!/usr/bin/env bash
# Start a single-node SLURM (slurmctld + slurmd on this machine, munge authentication) for the `slurm` tests.
#
# Needs root and Debian's packages `slurm-wlm` and `munge` (installed here when missing, from the package
# registry).  Idempotent: a running controller is left alone.  Prints one line, "ready" or the reason it is not.
# Undo with .ci/slurm-down.sh.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then echo "not root: cannot install or start SLURM"; exit 3; fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq slurm-wlm munge) >/tmp/slurm-install.log 2>&1 \
        || { echo "apt-get install slurm-wlm munge failed (see /tmp/slurm-install.log)"; exit 3; }
fi
if scontrol ping 2>/dev/null | grep -q "is UP"; then echo ready; exit 0; fi

host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
# /etc/slurm/slurm.conf is written only here (CI machines are fresh); the single partition "debug" holds this node.
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=icl-verify-ci
SlurmctldHost=${host}(127.0.0.1)
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
rm -f /etc/slurm/cgroup.conf
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
pgrep -x munged >/dev/null || su -s /bin/sh munge -c "/usr/sbin/munged" 2>/dev/null || /usr/sbin/munged --force
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 60); do
    if scontrol ping 2>/dev/null | grep -q "is UP" && sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix|alloc"; then
        echo ready; exit 0
    fi
    scontrol update NodeName="${host}" State=RESUME >/dev/null 2>&1 || true
    sleep 1
done
echo "SLURM did not come up: $(tail -n 3 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log 2>/dev/null | tr '\n' ' ')"
exit 4
