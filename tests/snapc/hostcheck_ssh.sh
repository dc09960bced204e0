#!/bin/bash
# restart-mpi's check of the hosts before a launch (restart_hostcheck.c, driven by hostcheck_drv
# on a launch line) with a stand-in ssh whose -G sends each host to this machine (an address of it
# that is not a loopback one): 192.0.2.1NN to a port that answers (up), 192.0.2.2NN to one that
# refuses (down). No network, no MPI.
#   1. MPICH: a hostfile "up:2, down:2" and -np 2: Hydra places no rank on the second host, so
#      it is not asked and the launch goes on (diffrev48 R-L2: every host of the hostfile was
#      probed: a machinefile's dead spare node refused a restart that would run); -np 3 reaches
#      it: refused naming it; -hosts with -ppn 1 the same; Open MPI (a daemon on every host it
#      is given): refused naming it with -np 2;
#   2. 40 hosts whose ssh -G takes 0.5 s each: asked all at once, each once (diffrev48 R-L4: host
#      after host, 11 s for 120 hosts at load, the old code here 20 s); ssh -G taking 2.5 s: a
#      line says what restart-mpi is doing meanwhile.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-hostcheck
DRV=$B/tests/snapc/hostcheck_drv
[ -x "$DRV" ] || { echo "SKIP: $DRV not built"; exit 77; }
mkdir -p "$W/bin"
cat >"$W/bin/ssh" <<EOS
#!/bin/bash
# stand-in ssh: only -G HOST, answered as ssh -G does (the lines restart-mpi reads)
[ "\$1" = -G ] || exit 255
echo "\$2" >>"$W/asked"
sleep \${SSH_G_DELAY:-0}
case \$2 in 192.0.2.1*) p=\$REVIVE_TEST_OPEN_PORT ;; *) p=\$REVIVE_TEST_CLOSED_PORT ;; esac
printf 'user root\nhostname %s\nport %s\nproxyjump none\n' "\$REVIVE_TEST_ADDR" "\$p"
EOS
chmod +x "$W/bin/ssh"
unset REVIVE_FETCH_PROBE_PORT HYDRA_LAUNCHER_EXEC HYDRA_BOOTSTRAP_EXEC HYDRA_LAUNCHER HYDRA_BOOTSTRAP \
    OMPI_MCA_plm_rsh_agent OMPI_MCA_plm SLURM_JOB_ID PBS_JOBID LSB_JOBID PE_HOSTFILE
MPICH=(mpiexec -launcher-exec "$W/bin/ssh")
# check NAME WANT(0|1) WORD...: hostcheck_drv FLAVOR WORD...; its status WANT, its line in NAME.out
check() {
    local name=$1 want=$2 st; shift 2
    : >"$W/asked"
    "$DRV" "$@" prog >"$W/$name.out" 2>"$W/$name.err"; st=$?
    [ $st = 77 ] && { cat "$W/$name.out"; exit 77; }
    [ $st = "$want" ] || fail "$name: status $st, not $want: $(cat "$W/$name.out" "$W/$name.err")"
}

printf '192.0.2.101:2\n192.0.2.201:2\n' >"$W/hf"
check np2 0 mpich "${MPICH[@]}" -f "$W/hf" -np 2
grep -qx 192.0.2.201 "$W/asked" && fail "1: -np 2 on 'up:2, down:2': the host Hydra places no rank on was asked"
check np3 1 mpich "${MPICH[@]}" -f "$W/hf" -np 3
grep -q "^rc -1: host 192.0.2.201, which the restarted job would run on, is down: [0-9.]* refuses connections" "$W/np3.out" ||
    fail "1: -np 3: the down host that gets a rank not named: $(cat "$W/np3.out")"
check ppn 0 mpich "${MPICH[@]}" -hosts 192.0.2.101,192.0.2.102,192.0.2.201 -ppn 1 -np 2
check ppn3 1 mpich "${MPICH[@]}" -hosts 192.0.2.101,192.0.2.102,192.0.2.201 -ppn 1 -np 3
printf '192.0.2.101 slots=2\n192.0.2.201 slots=2\n' >"$W/hf.ompi"
check ompi 1 ompi mpirun --mca plm_rsh_agent "$W/bin/ssh" --hostfile "$W/hf.ompi" -np 2
grep -q "^rc -1: host 192.0.2.201, which the restarted job would run on, is down" "$W/ompi.out" ||
    fail "1: Open MPI: the down host of the hostfile not named: $(cat "$W/ompi.out")"
pass "1: MPICH asks only the hosts Hydra places ranks on (-f with :N, -hosts with -ppn); Open MPI every host given"

list=$(seq -f '192.0.2.1%02g' 10 49 | paste -sd,)
t0=$(date +%s%N)
SSH_G_DELAY=0.5 check many 0 mpich "${MPICH[@]}" -hosts "$list" -np 40
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$(sort "$W/asked" | uniq | wc -l)" = 40 ] && [ "$(wc -l <"$W/asked")" = 40 ] ||
    fail "2: ssh -G asked $(wc -l <"$W/asked") times for $(sort -u "$W/asked" | wc -l) of the 40 hosts (each once)"
[ $ms -lt 12000 ] || fail "2: 40 hosts whose ssh -G takes 0.5 s: checked in $ms ms (at once: 1-5 s; one after another: 20 s)"
SSH_G_DELAY=2.5 check slow 0 mpich "${MPICH[@]}" -hosts 192.0.2.101,192.0.2.102 -np 2
grep -q "asking ssh -G where the remote shell goes for each host of the launch" "$W/slow.err" ||
    fail "2: ssh -G took 2.5 s: nothing said meanwhile: $(cat "$W/slow.err")"
pass "2: 40 hosts' ssh -G (0.5 s each) in $ms ms, each asked once; a slow one said"
finish
