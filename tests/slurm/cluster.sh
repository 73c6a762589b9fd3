#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for `make test-slurm`:
#   tests/slurm/cluster.sh start   install slurm-wlm + munge if missing, start munged (as munge),
#                                  slurmctld and slurmd (as root); prints `export SLURM_CONF=...`
#   tests/slurm/cluster.sh stop    stop the daemons this script started, by pid
# State, config and logs live in $SLURM_TEST_DIR (default /tmp/echo-slurm); /etc is not touched
# except for munge's key, which the munge package creates.
set -euo pipefail
DIR=${SLURM_TEST_DIR:-/tmp/echo-slurm}
CONF=$DIR/slurm.conf

need_root() { [ "$(id -u)" = 0 ] || { echo "cluster.sh: needs root (installs and starts daemons)" >&2; exit 2; }; }

install() {
  if command -v slurmctld >/dev/null && command -v munged >/dev/null; then return; fi
  echo "installing slurm-wlm and munge from the distribution's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

start_munge() {
  if [ -S /run/munge/munge.socket.2 ] && munge -n </dev/null >/dev/null 2>&1; then return; fi
  mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
  chmod 700 /etc/munge /var/log/munge /var/lib/munge
  chmod 400 /etc/munge/munge.key
  chmod 755 /run/munge
  runuser -u munge -- /usr/sbin/munged
  echo "$(cat /run/munge/munged.pid)" > "$DIR/munged.started"
}

write_conf() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  mkdir -p "$DIR/ctld" "$DIR/d"
  cat > "$CONF" <<CONF
ClusterName=echotest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
KillWait=60
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
}

start() {
  need_root
  mkdir -p "$DIR"
  stop_slurm  # daemons left by an earlier start in the same folder
  install
  start_munge
  write_conf
  export SLURM_CONF=$CONF
  slurmctld -c -f "$CONF"
  slurmd -c -f "$CONF"
  for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then
      echo "export SLURM_CONF=$CONF"
      return
    fi
    sleep 1
  done
  echo "cluster.sh: the node did not become idle; logs in $DIR" >&2
  sinfo >&2 || true
  tail -n 20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
  exit 1
}

stop_slurm() {
  local pid
  for name in slurmd slurmctld; do
    if [ -s "$DIR/$name.pid" ]; then
      pid=$(cat "$DIR/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      rm -f "$DIR/$name.pid"
    fi
  done
}

stop() {
  stop_slurm
  if [ -s "$DIR/munged.started" ]; then
    kill "$(cat "$DIR/munged.started")" 2>/dev/null || true
    rm -f "$DIR/munged.started"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
