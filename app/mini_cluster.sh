#!/usr/bin/env bash
# A one-node Slurm cluster on localhost inside a folder, for the `slurm` tests: its own munged
# (own key and socket), slurmctld and slurmd, no systemd, no cgroups (containers have none to
# delegate), no accounting database. Needs root (slurmd runs jobs as their submitter).
#
#   mini_cluster.sh start DIR [OWNER_PID]
#                               writes DIR/slurm.conf, starts the daemons, waits for an idle node;
#                               prints "export SLURM_CONF=DIR/slurm.conf". Exit 77 (the `slurm`
#                               tests skip on it) when the daemons cannot run here: not root, or
#                               Slurm/munge not installed (scripts/setup installs them).
#                               With OWNER_PID, a watcher stops the cluster when that process
#                               ends, however it ends (a crashed or killed test cleans up too).
#   mini_cluster.sh stop DIR    stops whatever `start` started in DIR (always safe to call).
set -uo pipefail
export PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cmd=${1:?usage: mini_cluster.sh start|stop DIR}
dir=$(realpath -m "${2:?usage: mini_cluster.sh start|stop DIR}")
owner=${3:-}

stop() {
  # Each daemon by the pid file it wrote in DIR: never by name (other clusters may be running).
  for name in slurmd slurmctld munged; do
    local pidfile="$dir/$name.pid"
    [ -s "$pidfile" ] || continue
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    rm -f "$pidfile"
  done
}

skip() { echo "mini_cluster: SKIP: $*" >&2; exit 77; }
fail() { echo "mini_cluster: FAIL: $*" >&2; stop; exit 1; }

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: mini_cluster.sh start|stop DIR" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd runs jobs as their submitter)"
for tool in munged mungekey slurmctld slurmd sbatch srun scontrol; do
  command -v "$tool" >/dev/null ||
    PATH=$PATH:/usr/sbin command -v "$tool" >/dev/null ||
    skip "$tool is not installed (scripts/setup installs munge slurmctld slurmd slurm-client)"
done
export PATH=$PATH:/usr/sbin
[ -e /usr/lib/x86_64-linux-gnu/libpmix.so ] ||
  skip "libpmix-dev is not installed (Slurm's pmix plugin loads libpmix.so)"

mkdir -p "$dir"/{state,spool,log}
# A private munge: its own key and socket, so nothing outside DIR is touched.
mungekey --create --keyfile="$dir/munge.key" --force 2>"$dir/log/mungekey.log" ||
  fail "mungekey: $(cat "$dir/log/mungekey.log")"
chmod 600 "$dir/munge.key"
munged --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed" ||
  fail "munged did not start: $(tail -3 "$dir/log/munged.log")"

# Free TCP ports for the two daemons (several clusters may run on one machine).
read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

cpus=$(nproc)
cat >"$dir/slurm.conf" <<CONF
# Written by app/mini_cluster.sh: one node, localhost, no cgroups, no database.
ClusterName=phasesweep-test
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# A requeued job is held for cred_expire + 1 s: keep it short.
AuthInfo=socket=$dir/munge.sock,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MpiDefault=none
ReturnToService=2
KillWait=30
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF=$dir/slurm.conf

slurmctld -c -f "$SLURM_CONF" || fail "slurmctld did not start: $(tail -3 "$dir/log/slurmctld.log")"
slurmd -f "$SLURM_CONF" -N localhost || fail "slurmd did not start: $(tail -3 "$dir/log/slurmd.log")"
for _ in $(seq 100); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
  if [ "$state" = idle ]; then
    if [ -n "$owner" ]; then
      setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" stop "$3"' \
        watcher "$owner" "$(realpath "$0")" "$dir" </dev/null >/dev/null 2>&1 &
    fi
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
fail "the node did not become idle in 20 s (state '${state:-none}'); slurmd log: $(tail -3 "$dir/log/slurmd.log")"
