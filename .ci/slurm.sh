#!/usr/bin/env bash
# A real single-node Slurm for the cluster tests (test/cluster-slurm.test.ts), from Debian's packages:
#   bash .ci/slurm.sh install   apt-get install slurmctld slurmd slurm-client munge (when missing)
#   bash .ci/slurm.sh start     munged (as the munge user) + slurmctld + slurmd, with a minimal slurm.conf
#                               (this machine as the only node); waits until the node is idle
#   bash .ci/slurm.sh stop      stops only the daemons that `start` started
# The slurm.conf is written only when none exists (or when it is the one written here), so a machine with
# its own Slurm is left alone.
set -euo pipefail
STATE=/run/plm-sae-slurm
CONF=/etc/slurm/slurm.conf
MARK='# written by PLM-SAE Workbench .ci/slurm.sh'

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then return; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

write_conf() {
  if [[ -f $CONF ]] && ! grep -qF "$MARK" "$CONF"; then return; fi
  local host node   # addresses are 127.0.0.1: a container's host name need not resolve
  host=$(hostname -s)
  node=$(slurmd -C | head -1 | sed -e 's/ UpTime=.*//')
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
  cat >"$CONF" <<CONF
$MARK
ClusterName=plmsae
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
JobRequeue=1
MpiDefault=none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
}

start() {
  install
  write_conf
  mkdir -p "$STATE"
  if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 0755 /run/munge
    [[ -s /etc/munge/munge.key ]] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key; }
    runuser -u munge -- /usr/sbin/munged
    touch "$STATE/munged"
  fi
  if ! pgrep -x slurmctld >/dev/null; then
    slurmctld
    touch "$STATE/slurmctld"
  fi
  if ! pgrep -x slurmd >/dev/null; then
    slurmd
    touch "$STATE/slurmd"
  fi
  # the node shows unk* for a few seconds after start
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
      sinfo
      return
    fi
    sleep 1
  done
  echo "slurm did not come up: sinfo says $(sinfo -h -o '%T' 2>&1)" >&2
  tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
  exit 1
}

stop_one() { # name pidfile
  [[ -f "$STATE/$1" ]] || return 0
  local pid=''
  [[ -n ${2:-} && -f $2 ]] && pid=$(cat "$2")
  [[ -z $pid ]] && pid=$(pgrep -x "$1" || true)
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  rm -f "$STATE/$1"
}

stop() {
  stop_one slurmd /run/slurmd.pid
  stop_one slurmctld /run/slurmctld.pid
  stop_one munged /run/munge/munged.pid
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
