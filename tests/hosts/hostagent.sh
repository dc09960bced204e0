#!/bin/sh
# hostagent.sh HB [ssh options] HOST COMMAND...: the host test bed's remote shell (what ssh is
# to a launcher). Runs COMMAND (joined with spaces, as ssh does, and run by sh) inside HOST's
# network, UTS and mount namespaces, with a login-like environment: the launcher's own
# environment does not leak through (a real ssh would not carry it either), only what a
# user's shell start-up files give on every node (PATH, HOME, the user, TMPDIR, Open MPI's
# permission to run as root, and Revive's installation variables that a test build needs
# instead of env.sh: REVIVE_MPI_LIBDIR, REVIVE_EXEC, REVIVE_RESTART_RANK; and the fault-point
# variables a test sets for a job's ranks: REVIVE_FAULT, REVIVE_FAULT_EPOCH,
# REVIVE_STAGE_HOLD; and REVIVE_VERBOSE, which Open MPI does not pass on by itself). HB/$HOST.pid names the process holding the host's namespaces.
hb=$1
shift
# ssh options the launchers pass (Hydra: -x; Open MPI none for a non-ssh agent); options with a
# value are not used by them. -G (print the configuration for HOST and exit, as restart-mpi
# asks an agent named ssh where a host is reached: tools/snapc/restart_hostcheck.c) is answered
# by ssh itself from the bed's configuration $hb/ssh_config (a test gives a host a Port there)
# -p PORT is kept: the port an ssh given it goes to (Open MPI's plm_rsh_args "-p 2222")
G= P=
while [ $# -gt 0 ]; do
    case $1 in
    -G) G=1; shift ;;
    -[46AaCfgKkMNnqsTtVvXxYy]) shift ;;
    -p) P=$2; shift 2 ;;
    -o|-l|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
    esac
done
host=$1
[ -n "$G" ] && [ -n "$host" ] && exec ssh -F "$hb/ssh_config" ${P:+-p "$P"} -G "$host"
[ -n "$host" ] && [ $# -ge 2 ] || { echo "hostagent: usage: hostagent [ssh options] HOST COMMAND..." >&2; exit 255; }
shift
case $host in *@*) host=${host#*@} ;; esac
pidf=$hb/$host.pid
[ -f "$pidf" ] || { echo "hostagent: ssh: Could not resolve hostname $host: no such host in the test bed" >&2; exit 255; }
pid=$(cat "$pidf")
# as ssh (HB_VIA=ssh: $hb/bin/ssh, the launchers' remote shell): the host is reached only when
# its remote shell's port (22, or the Port $hb/ssh_config or -p gives it) accepts; a host whose sshd
# is stopped (hb_sshd_stop) or lost refuses, as ssh says
if [ "${HB_VIA:-}" = ssh ]; then
    port=$(ssh -F "$hb/ssh_config" ${P:+-p "$P"} -G "$host" 2>/dev/null | sed -n 's/^port //p')
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "${port:=22}" 2>/dev/null ||
        { echo "ssh: connect to host $host port $port: Connection refused" >&2; exit 255; }
fi
echo "$host" >>"$hb/agent.log"   # the tests check that jobs really went through the agent
# HB_AGENT_HANG="h2 ...": the remote shell to those hosts hangs after its port answered (an
# ssh that never gets through: a full proxy, a hung login), as long as the launcher waits
case " ${HB_AGENT_HANG:-} " in *" $host "*) exec perl -e '$0 = "hb-agent-hang"; sleep 3600' ;; esac
exec env -i PATH="$PATH" HOME="${HOME:-/root}" USER="${USER:-$(id -un)}" LOGNAME="${LOGNAME:-$(id -un)}" \
    SHELL=/bin/sh LANG=C ${TMPDIR:+TMPDIR="$TMPDIR"} \
    ${OMPI_ALLOW_RUN_AS_ROOT:+OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1} \
    ${REVIVE_MPI_LIBDIR:+REVIVE_MPI_LIBDIR="$REVIVE_MPI_LIBDIR"} ${REVIVE_EXEC:+REVIVE_EXEC="$REVIVE_EXEC"} \
    ${REVIVE_RESTART_RANK:+REVIVE_RESTART_RANK="$REVIVE_RESTART_RANK"} \
    ${REVIVE_FAULT:+REVIVE_FAULT="$REVIVE_FAULT"} ${REVIVE_FAULT_EPOCH:+REVIVE_FAULT_EPOCH="$REVIVE_FAULT_EPOCH"} \
    ${REVIVE_STAGE_HOLD:+REVIVE_STAGE_HOLD="$REVIVE_STAGE_HOLD"} ${REVIVE_VERBOSE:+REVIVE_VERBOSE="$REVIVE_VERBOSE"} \
    nsenter -t "$pid" -n -u -m -- /bin/sh -c "cd; $*"
