#!/bin/bash
# lower_inner.sh FLAVOR: the MPI library's libc calls that open a descriptor inside themselves, by
# the lower libc's own code, past the lower root's wrappers (src/pml_hooks/lower_inner.c): a fork
# of the application's meanwhile copied it unmarked (rank_forkloop-mpich in CI: hwloc's
# setmntent; 70d257d). lower_inner.c's ranks fork in a thread while MPI_Init runs, each child
# naming any descriptor it holds but /dev/null and the launcher's. Such a moment lasts
# microseconds: strace, attached to each rank before its MPI_Init, widens it (the system call is
# held 150 ms), in jobs of 2 ranks:
#   files  the opens of the files such calls read (sysconf's /sys/devices/system/cpu/online and
#          possible: hwloc, libnuma, PMIx; NSS's /etc/passwd, /etc/group, /etc/nsswitch.conf;
#          getaddrinfo's /etc/hosts, /etc/gai.conf and /etc/resolv.conf: MPICH's hwloc loads
#          libxcb, which looks up localhost; the time zone's /etc/localtime; glob's /dev: Open
#          MPI's mtl/psm2 looks for its devices);
#   net    every sendto: getifaddrs' netlink request (UCX lists the interfaces at MPI_Init),
#          with the socket open. Open MPI's own if framework makes none (it reads
#          /proc/net/if_inet6 and asks ioctl, through wrapped calls): its job runs with the UCX
#          PML (pml=ucx, any transport and device, as on a site with a fabric); SKIP-PART when
#          that PML cannot be selected.
# Checks, in each job: the job ends normally and no child held a descriptor; the widened calls
# happened (strace held some). Before lower_inner.c, with the fork handler in place
# (restart.h), 2 runs of 2 of each flavour failed (MPICH: the netlink socket, /etc/hosts,
# /etc/nsswitch.conf, /etc/resolv.conf, /sys/devices/system/cpu/online and possible; Open MPI:
# /dev, and with the UCX PML the netlink socket); before the fork handler came ahead of the lower half's load, every child forked while
# MPI_Init ran held the library's descriptors (eventfds, /dev/shm files, sockets).
# SKIP-PART when strace is missing or cannot attach (ptrace not permitted).
flavor=$1
# every hwloc plugin, as on a user's machine (make check leaves OpenCL's out: Makefile.am)
unset HWLOC_COMPONENTS
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog lower_inner
ck_workdir lowerinner
if ! command -v strace >/dev/null 2>&1; then
    echo "SKIP: no strace (it widens the moments the test looks at)"
    exit 77
fi

files=(/sys/devices/system/cpu/online /sys/devices/system/cpu/possible /etc/passwd /etc/group
    /etc/nsswitch.conf /etc/hosts /etc/gai.conf /etc/resolv.conf /etc/localtime /dev)

# one_job KIND: the job with strace's delays of KIND; sets held (children that held one), forks
one_job() {
    local kind=$1 w=$d/$1
    mkdir -p "$w"
    local -a env=()
    [ $kind = net ] && [ $flavor = ompi ] && env=(OMPI_MCA_pml=ucx OMPI_MCA_pml_ucx_tls=any OMPI_MCA_pml_ucx_devices=any)
    clean env "${env[@]}" timeout -k 5 300 "$wrapper" -am ft-enable-cr -n 2 "$prog" "$w" >"$w/out" 2>"$w/err" &
    local job=$! n=0 p
    pids+=($job)
    local -a tr=()
    for i in $(seq 600); do
        for f in "$w"/pid.*; do
            [ -e "$f" ] || continue
            p=${f##*/pid.}
            [ -e "$w/go.$p" ] || [ -e "$w/trace.$p.started" ] && continue
            touch "$w/trace.$p.started"
            if [ $kind = net ]; then
                strace -f -qq -o "$w/trace.$p" -e trace=sendto -e inject=sendto:delay_enter=150000 -p "$p" &
            else
                strace -f -qq -o "$w/trace.$p" -e trace=openat,open $(printf -- '-P %s ' "${files[@]}") \
                    -e inject=openat,open:delay_exit=150000 -p "$p" &
            fi
            tr+=($!)
            # attached once the rank's main thread shows a tracer
            for k in $(seq 100); do
                [ "$(awk '/^TracerPid:/ {print $2}' /proc/$p/status 2>/dev/null)" != 0 ] && break
                sleep 0.05
            done
            if [ "$(awk '/^TracerPid:/ {print $2}' /proc/$p/status 2>/dev/null)" = 0 ]; then
                echo "SKIP-PART: $kind (strace could not attach to a rank: $(head -n 1 "$w/trace.$p" 2>/dev/null))"
                touch "$w/go.$p" "$w/skipped"
            else
                touch "$w/go.$p"
            fi
            n=$((n + 1))
        done
        [ $n = 2 ] && break
        sleep 0.05
    done
    wait $job; local rc=$?
    for t in "${tr[@]}"; do wait "$t" 2>/dev/null; done
    [ -e "$w/skipped" ] && return 0
    if [ ${#env[@]} != 0 ] && grep -q 'PML ucx cannot be selected' "$w/err"; then
        echo "SKIP-PART: $kind (Open MPI's UCX PML cannot be selected here)"
        return 0
    fi
    held=$(grep -c 'a child forked during MPI_Init holds descriptor' "$w/err")
    local line=$(grep '^forks ' "$w/out")
    if [ $rc != 0 ] || [ -z "$line" ]; then
        failed "$kind: the job with strace's delays: status $rc"; show_err "$w/out" "$w/err"
        return 0
    fi
    if [ "$held" = 0 ]; then
        pass "$kind: no child forked while MPI_Init ran held a descriptor ($line)"
    else
        failed "$kind: $held children forked while MPI_Init ran held a descriptor ($line), e.g.:"
        grep -h 'a child forked during MPI_Init holds descriptor' "$w/err" |
            sed 's/^pid [0-9]*/pid N/; s/descriptor [0-9]*/descriptor N/; s/\[[0-9]*\]/[N]/' | sort | uniq -c | head -n 6
    fi
    # the widened calls happened: strace held some (else the test looked at nothing)
    local seen
    if [ $kind = net ]; then
        seen=$(cat "$w"/trace.[0-9]* 2>/dev/null | grep -c 'sendto(.*AF_NETLINK\|sendto(.*nl_pid\|sendto(.*RTM_')
    else
        seen=$(cat "$w"/trace.[0-9]* 2>/dev/null | grep -c 'openat(')
    fi
    if [ "$seen" -gt 0 ]; then
        pass "$kind: strace held $seen such calls of the ranks"
    else
        failed "$kind: strace held no such call of the ranks (the test looked at nothing)"
        head -n 5 "$w"/trace.[0-9]* 2>/dev/null
    fi
}

one_job files
one_job net
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
