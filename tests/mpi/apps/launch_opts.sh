#!/bin/bash
# launch_opts.sh FLAVOR: the launcher options users pass reach the real launcher under Revive
# ("mpirun -am ft-enable-cr OPTIONS") as they do natively (newuser50 M1). For each line of
# options below, launchprog env (launchprog.c: each rank's rank, size, host, working directory,
# LOPT_A, LOPT_B and its own arguments) runs natively and under Revive; its lines must be the
# same (sorted: ranks interleave), status 0 both. The options of Open MPI's mpirun and of
# MPICH's Hydra: environment (-x, -genv NAME=VALUE and NAME VALUE, -envlist), placement
# (--host, --hostfile, -hosts, -f, -ppn, --map-by, --bind-to), -wdir with a program relative
# to it (also in a later MPMD section; Open MPI: a name without a slash, found in PATH, then in
# the rank's working directory: its section's -wdir, else the launch directory), --mca, --tag-output, --timeout, --stdin, -prepend-pattern, -l, -profile, "--" before
# the program (Open MPI), -n=2 and --np (Hydra), and a program whose own arguments look like
# the wrapper's (-am ft-enable-cr, --ckpt-dir). --output-filename: the files it writes compared.
# Then --app FILE (Open MPI) and -configfile FILE (Hydra), whose programs Revive cannot put its
# rank starter in front of: one line naming the option and what to do, status 1, no rank run.
flavor=$1
. "$(dirname "$0")/appenv.sh" || exit $?
prog=$REVIVE_BUILDDIR/tests/mpi/apps/launchprog-$flavor
[ -x "$prog" ] || { echo "SKIP: $prog not built"; exit 77; }
fail=0
d=$tmp/opts
mkdir -p "$d/sub" "$d/elsewhere"
cp "$prog" "$d/sub/lprog"   # -wdir sub ./lprog: there, not in the launch directory
cp "$prog" "$d/lhere"       # Open MPI: "lhere" (no slash, not in PATH) is the launch directory's
export LOPT_B=b-inherited
unset LOPT_A
# records FILE: the rank lines of FILE, sorted. Hydra passes the ranks' output on in pieces
# as it reads them: natively, one rank's line and the next rank's (and -l's "[1] " prefix) came
# out on one line now and then; each record ("[N] " prefix, "rank N of ...") on a line of its own
records() {
    sed -E 's/(\[[0-9]+\] )/\n\1/g; s/([^ ])(rank [0-9]+ of )/\1\n\2/g' "$1" | grep 'rank [0-9]* of ' |
        sed 's/ *$//' | sort
}
# same OPTIONS...: natively and under Revive from $d, the rank lines compared (PROG: the program)
same() {
    local label=$1 a
    shift
    local opts=()
    for a in "$@"; do [ "$a" = PROG ] && opts+=("$prog") || opts+=("$a"); done
    (cd "$d" && timeout -k 5 "$TMO" "$launcher" "${opts[@]}") >"$d/n.out" 2>"$d/n.err"; local rn=$?
    (cd "$d" && PATH=$(dirname "$launcher"):$PATH timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr \
        "${opts[@]}") >"$d/r.out" 2>"$d/r.err"; local rr=$?
    records "$d/n.out" >"$d/n.s"
    records "$d/r.out" >"$d/r.s"
    if [ $rn = 0 ] && [ $rr = 0 ] && [ -s "$d/n.s" ] && cmp -s "$d/n.s" "$d/r.s"; then
        echo "ok $label: $(wc -l <"$d/n.s") rank lines as natively ($(head -n 1 "$d/n.s" | cut -c1-110))"
    else
        echo "FAIL $label: status native $rn, revive $rr"
        diff "$d/n.s" "$d/r.s" | head -n 6 | sed 's/^/  /'
        [ $rn = 0 ] || tail -n 3 "$d/n.err" | sed 's/^/  native: /'
        [ $rr = 0 ] || tail -n 3 "$d/r.err" | sed 's/^/  revive: /'
        fail=1
    fi
}
own_args=(env -am ft-enable-cr --ckpt-dir x -x Y)
case $flavor in
ompi)
    echo "localhost slots=4" >"$d/hosts"
    same "-x NAME=VALUE -x NAME" -x LOPT_A=a1 -x LOPT_B -np 2 PROG env
    same "--mca, --map-by, --bind-to" --mca btl self,vader --map-by slot --bind-to none -np 2 PROG env
    same "--host" --host localhost:2 -np 2 PROG env
    same "--hostfile" --hostfile hosts -np 2 PROG env
    same "-wdir D ./prog" -wdir sub -np 2 ./lprog env
    # a name without a slash: PATH, then the rank's working directory (its section's -wdir)
    same "-wdir D prog" -wdir sub -np 2 lprog env
    same "prog in the launch directory" -np 2 lhere env
    same "MPMD: a later section's -wdir D prog" -np 1 PROG env : -wdir sub -np 1 lprog env
    same "MPMD: a later section's -wdir D ./prog" -np 1 PROG env : -wdir sub -np 1 ./lprog env
    same "--tag-output --timeout" --tag-output --timeout 300 -np 2 PROG env
    same "--stdin none" --stdin none -np 2 PROG env
    same "--report-bindings" --report-bindings -np 2 PROG env
    same "-- before the program" -np 2 -- PROG env
    same "the program's own arguments" -np 2 PROG "${own_args[@]}"
    # --output-filename DIR: the ranks' output in DIR/1/rank.N/stdout
    for who in n r; do
        rm -rf "$d/of-$who"
        if [ $who = n ]; then
            (cd "$d" && timeout -k 5 "$TMO" "$launcher" --output-filename "of-$who" -np 2 "$prog" env) \
                >/dev/null 2>"$d/of.err"
        else
            (cd "$d" && PATH=$(dirname "$launcher"):$PATH timeout -k 5 "$TMO" "$wrapper" \
                -am ft-enable-cr --output-filename "of-$who" -np 2 "$prog" env) >/dev/null 2>"$d/of.err"
        fi
        cat "$d/of-$who"/1/rank.*/stdout 2>/dev/null | sort >"$d/of-$who.s"
    done
    if [ "$(grep -c 'rank [0-9]* of 2' "$d/of-n.s")" = 2 ] && cmp -s "$d/of-n.s" "$d/of-r.s"; then
        echo "ok --output-filename: the ranks' files as natively"
    else
        echo "FAIL --output-filename: $(cat "$d/of-r.s" | head -n 2) (natively $(head -n 1 "$d/of-n.s"))"
        tail -n 3 "$d/of.err"; fail=1
    fi
    printf -- '-np 2 %s env\n' "$prog" >"$d/appfile"
    refuse=(--app appfile) ;;
mpich)
    echo "localhost:4" >"$d/hosts"
    same "-genv NAME=VALUE -envlist" -genv LOPT_A=a1 -envlist LOPT_B -n 2 PROG env
    same "-genv NAME VALUE" -genv LOPT_A a2 -n 2 PROG env
    same "-env NAME=VALUE (local)" -n 2 -env LOPT_A=a3 PROG env
    same "-hosts -ppn" -hosts localhost -ppn 2 -n 2 PROG env
    same "-f" -f hosts -n 2 PROG env
    same "-wdir D ./prog" -wdir sub -n 2 ./lprog env
    same "MPMD: a later section's -wdir D ./prog" -n 1 PROG env : -wdir sub -n 1 ./lprog env
    same "-bind-to -map-by" -bind-to none -map-by core -n 2 PROG env
    same "-prepend-pattern" -prepend-pattern '[%r] ' -n 2 PROG env
    same "-l" -l -n 2 PROG env
    same "-profile" -profile -n 2 PROG env
    same "-n=2" -n=2 PROG env
    same "--np --hosts" --np 2 --hosts localhost PROG env
    same "the program's own arguments" -n 2 PROG "${own_args[@]}"
    printf -- '-n 2 %s env\n' "$prog" >"$d/appfile"
    refuse=(-configfile appfile) ;;
esac
# an appfile: refused at once in one line naming it, no rank run
(cd "$d" && PATH=$(dirname "$launcher"):$PATH timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr \
    "${refuse[@]}") >"$d/a.out" 2>"$d/a.err"; rc=$?
if [ $rc = 1 ] && [ "$(grep -c . "$d/a.err")" = 1 ] && grep -q -- "${refuse[0]} FILE is not supported" "$d/a.err" &&
    ! grep -q 'rank [0-9]* of' "$d/a.out"; then
    echo "ok ${refuse[*]}: refused, status 1: $(cat "$d/a.err")"
else
    echo "FAIL ${refuse[*]}: status $rc: $(head -n 3 "$d/a.err")"; fail=1
fi
exit $fail
