#!/bin/bash
# ckpt-mpirun --term's closing hint "restart-mpi REF runs it again" can be pasted into a shell
# when REF holds spaces and a quote (review11 #6: it was printed unquoted and broke on the
# spaces): the hint's word, read back by the shell, is the reference ckpt-mpirun printed on
# standard output; a plain reference is printed as it is.
. "$(dirname "$0")/lib.sh"
snapc_workdir snapc-termhint
mkdir -m 700 "$W/my dir's"
for dir in "$W/my dir's" "$W"; do
    start_job a 2 --coord --dir "$dir" -- --iters $UNTIL_KILLED --sleep-us 500
    expect_rc 0 "--term" "$CKPT" --wait --term $JOB || kill -KILL $JOB
    wait $JOB
    ref=$(tail -n1 "$W/cmd.out")
    word=$(sed -n 's/.*(--term); restart-mpi \(.*\) runs it again from the snapshot$/\1/p' "$W/cmd.err")
    eval "set -- $word"
    if [ $# = 1 ] && [ "$1" = "$ref" ]; then
        pass "the hint's reference ($word) is one shell word, the snapshot's reference"
    else
        fail "the hint's reference ($word) reads as $# word(s) '$*', not '$ref'"
    fi
done
case $word in \'*) fail "a plain reference was quoted: $word" ;; esac
finish
