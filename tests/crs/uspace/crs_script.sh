#!/bin/bash
# State test: a shell script caught mid-step (issue 10, point 1): crt_script
# runs bash on a script whose first step is a pipeline inside $(...) and
# whose second is a child command; each checkpoint (cr_checkpoint --tree of
# the script's bash) catches bash waiting for the step. After the restart the
# script records the same exit statuses and output as an uninterrupted run,
# through every flavour of cr_cycle.sh but nopid (a tree comes back only
# under its pids: crs_tree.sh checks the refusal). Then the same with step 1 a
# child command whose stdin and stdout the script put on /dev/null (CRT_SCRIPT_NULL). Then with
# step 1 on a here-document (a pipe bash made, its writer closed) and a regular file
# (CRT_SCRIPT_MADE), as it comes and with cr_checkpoint unable to look into the members'
# descriptors (REVIVE_FAULT=tree-getfd: no ptrace permission over them, as for a user under
# kernel.yama.ptrace_scope 1): the tree's restart then makes no pipe for the step, whose own
# image must hold it (tidy32: it came back as cr_restart's stdin, the document lost).
# Those three are about step 1's standard streams: each runs "state" (the flavours that restore
# what the members hold) and stdoutfile and tty (the launcher's streams the restart replaces);
# run, term, compress and sigdeath (no checkpoint, the original's signal, the image's bytes,
# cr_restart's status) do for them what they do for the first part, which runs them (session 52:
# 4 parts of 13 flavours, 43.6 s of CPU in CI51; 12 of the 52 cycles left out).
. "$(dirname "$0")/../crs_lib.sh"
crs_setup crs_script
command -v bash >/dev/null && command -v tr >/dev/null && command -v cksum >/dev/null ||
    crs_skip "bash, tr or cksum is missing"
fl="run kill twice rr cont fork stop term compress stdoutfile tty sigdeath busy"
streams="state stdoutfile tty"
if CRS_CKPT_SCOPE=--tree CRS_FLAVOURS=$fl bash "$(dirname "$0")/../cr_cycle.sh" crt_script; then
    crs_pass "every flavour"
else
    crs_fail "the flavours above"
fi
# step 1 with its stdin and stdout on /dev/null, put there by the script (a member of the tree):
# /dev/null again after a restart, not cr_restart's streams (newuser10 F5: its lines came out on
# cr_restart's stdout, and it read cr_restart's stdin)
if CRT_SCRIPT_NULL=1 CRS_CKPT_SCOPE=--tree CRS_FLAVOURS=$streams bash "$(dirname "$0")/../cr_cycle.sh" crt_script; then
    crs_pass "null: state stdoutfile tty"
else
    crs_fail "null: the flavours above"
fi
# step 1 on a here-document and a file the script put there: restored as recorded
if ! /bin/bash -c '/bin/bash -c "[ -p /dev/stdin ]" <<<x'; then
    echo "SKIP-PART: made (this bash gives a here-document as a file, not a pipe)"
else
    if CRT_SCRIPT_MADE=1 CRS_CKPT_SCOPE=--tree CRS_FLAVOURS=$streams bash "$(dirname "$0")/../cr_cycle.sh" crt_script; then
        crs_pass "made: state stdoutfile tty"
    else
        crs_fail "made: the flavours above"
    fi
    if REVIVE_FAULT=tree-getfd CRT_SCRIPT_MADE=1 CRS_CKPT_SCOPE=--tree CRS_FLAVOURS=$streams \
        bash "$(dirname "$0")/../cr_cycle.sh" crt_script; then
        crs_pass "made, no look into the members' pipes (tree-getfd): state stdoutfile tty"
    else
        crs_fail "made, no look into the members' pipes (tree-getfd): the flavours above"
    fi
fi
crs_summary crs_script
