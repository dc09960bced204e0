#!/bin/bash
# rst_dupout.sh FLAVOR: a rank that after a restart copies its standard output (dup(1)) and opens
# /dev/stderr, writes through them, is checkpointed again and restarted a second time
# (rst_dupout.c, review 13 M1). After a restart the capture knew as inherited only the files of
# the descriptors it had matched before, never the standard streams the restart gave: the second
# snapshot was refused, naming the copy. Now it is taken, the copies take the second restart's
# streams again, and the lines equal an uninterrupted run's. At 1 and 2 ranks.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_dupout
steps=7
for n in 1 2; do
    two_restarts "$n" $steps 2 4 || continue
    want=$(results "$d/native.out")
    got=$(results "$d/orig.out" "$d/r1.out" "$d/r.out")
    through=$(grep -c "^rank 0: step 6 through /dev/stderr" "$d/r.err")
    if [ $rc != 0 ]; then
        failed "np=$n second restart: status $rc"; show_err "$d/r.err"
    elif [ -z "$want" ] || [ "$want" != "$got" ]; then
        failed "np=$n: the lines differ from the uninterrupted run"; diff <(echo "$want") <(echo "$got") | head -8
    elif [ "$through" != 1 ]; then
        failed "np=$n: rank 0 wrote its last step through /dev/stderr $through times after the second restart"
    else
        pass "np=$n: $(echo "$want" | wc -l) lines as uninterrupted over two restarts, written through the copies"
    fi
done
exit $fail
