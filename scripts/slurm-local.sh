#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for testing `hybrid158-cli sweep --backend slurm`
# without a real cluster (no systemd, nothing outside the scratch folder but the packages).
#   scripts/slurm-local.sh start DIR   installs slurmctld, slurmd, slurm-client and munge if they
#                                      are missing, writes DIR/slurm.conf, starts munged,
#                                      slurmctld and slurmd with every state, spool, socket, pid
#                                      and log path under DIR, and waits for the node to be idle
#   scripts/slurm-local.sh stop DIR    stops the daemons it started (by the PIDs in DIR/*.pid)
# Client commands need SLURM_CONF=DIR/slurm.conf (start prints the line to export).
# The daemons run as root (through sudo when the caller is not): slurmd runs jobs as their user.
set -euo pipefail
cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: $0 start|stop DIR" >&2
    exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# The daemons run as root (slurmd starts each job as its user); without root, through sudo.
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

stop() {
    local status=0
    for d in slurmd slurmctld munged; do
        local pidfile="$dir/$d.pid"
        [ -f "$pidfile" ] || continue
        local pid
        pid="$(cat "$pidfile")"
        if $sudo kill -0 "$pid" 2> /dev/null; then
            $sudo kill "$pid"
            for _ in $(seq 50); do
                $sudo kill -0 "$pid" 2> /dev/null || break
                sleep 0.1
            done
            if $sudo kill -0 "$pid" 2> /dev/null; then
                echo "slurm-local: $d ($pid) did not stop; killing it" >&2
                $sudo kill -9 "$pid" || status=1
            fi
        fi
        $sudo rm -f "$pidfile"
    done
    return "$status"
}

start() {
    if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null ||
        ! command -v sbatch > /dev/null || ! command -v munged > /dev/null; then
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            slurmctld slurmd slurm-client munge > "$dir/apt.log" 2>&1 ||
            { cat "$dir/apt.log" >&2; return 1; }
    fi
    stop  # daemons left by an earlier start in this folder
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
    chmod 755 "$dir/munge"  # munged refuses a socket folder others could write into
    if [ ! -f "$dir/munge/munge.key" ]; then
        dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
        chmod 400 "$dir/munge/munge.key"
    fi
    local host node
    host="$(hostname -s)"
    # The node as slurmd sees it (CPUs, sockets, memory), addressed on the loopback.
    node="$(slurmd -C | head -n 1) NodeAddr=127.0.0.1 State=UNKNOWN"
    cat > "$dir/slurm.conf" << EOF
ClusterName=h158local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
$node
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    $sudo munged --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" --force
    export SLURM_CONF="$dir/slurm.conf"
    $sudo slurmctld -f "$SLURM_CONF"
    $sudo slurmd -f "$SLURM_CONF"
    # ready when the node reports idle (about a second)
    for _ in $(seq 150); do
        if sinfo -h -N -o "%t" 2> /dev/null | grep -qx "idle"; then
            echo "export SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 0.2
    done
    echo "slurm-local: the node did not become idle in 30 s" >&2
    sinfo -N -l >&2 || true
    tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    stop
    return 1
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: $0 start|stop DIR" >&2
        exit 2
        ;;
esac
