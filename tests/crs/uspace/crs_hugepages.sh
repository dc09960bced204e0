#!/bin/bash
# State test: huge pages and madvise advice (issue 10, point 8). The
# flavours that restore the regions or keep the original's (kill, twice,
# nopid, rr, cont, fork, stop, compress, busy): advice (HUGEPAGE, NOHUGEPAGE,
# DONTFORK, DONTDUMP, WIPEONFORK, RANDOM, SEQUENTIAL) and PR_SET_THP_DISABLE
# (run, term, stdoutfile, tty and sigdeath are how the process ends and
# its streams, which no advice changes; stop, the original stopped and let go
# on, is one of the contract's state flavours and was left out). As root also, on 2 MiB pages,
# through the flavours kill, twice, rr, cont, fork and busy: MAP_HUGETLB
# memory (private and shared), files of a hugetlbfs mounted for the test
# (mapped shared, mapped private and written, deleted while mapped and open)
# and a MFD_HUGETLB memfd; System V shared memory on huge pages (crt_sysv
# with CRT_SYSV_HUGE=1: kill, twice, rr, cont). The test reserves huge pages for itself
# (vm.nr_hugepages, put back at the end; one test at a time on this machine
# holds /tmp/revive-hugepages.lock) and then checks that a restart on a
# machine without free huge pages is refused in one line naming
# vm.nr_hugepages, and that the image restarts once they are back. Not every
# flavour on huge pages: under load the kernel gives the pages of an ended
# process back a minute or more later (measured), and every flavour would
# need hundreds reserved.
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_hugepages
export CRT_THP_DISABLE=1
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
    # vm.nr_hugepages is the machine's: another copy of this test (another
    # checkout) must not change it under us
    if crs_hugepages_raise crs_hugepages 128 96; then
        want=$((CRS_HUGEPAGES_ORIG + 128))
        hugetlb=1
        mkdir -p "$WORK/hugetlbfs"
        if mount -t hugetlbfs -o pagesize=2M,mode=0700 none "$WORK/hugetlbfs" 2>/dev/null; then
            crs_at_exit "umount -l $WORK/hugetlbfs"
            hugetlbfs=$WORK/hugetlbfs
        else
            crs_note "hugetlbfs cannot be mounted here: its files are not tested"
        fi
    else
        crs_note "only $(cat /proc/sys/vm/nr_hugepages) huge pages could be reserved: MAP_HUGETLB is not tested"
    fi
else
    crs_note "not root: MAP_HUGETLB and hugetlbfs are not tested, only the advice"
fi
if CRS_FLAVOURS=${CRS_FLAVOURS:-kill twice nopid rr cont fork stop compress busy} bash "$(dirname "$0")/../cr_cycle.sh" crt_hugepages; then
    crs_pass "advice: kill, twice, nopid, rr, cont, fork, stop, compress, busy"
else
    crs_fail "advice: the flavours above"
fi
[ -n "${hugetlb:-}" ] || crs_summary crs_hugepages
export CRT_HUGETLB=1 CRT_HUGETLBFS=${hugetlbfs:-}
if CRS_FLAVOURS="kill twice rr cont fork busy" bash "$(dirname "$0")/../cr_cycle.sh" crt_hugepages; then
    crs_pass "huge pages: kill, twice, rr, cont, fork, busy"
else
    crs_fail "huge pages: the flavours above"
fi

# System V shared memory on huge pages (SHM_HUGETLB): crt_sysv's segment D
if CRT_SYSV_HUGE=1 CRS_FLAVOURS="kill twice rr cont" bash "$(dirname "$0")/../cr_cycle.sh" crt_sysv; then
    crs_pass "System V shared memory on huge pages (SHM_HUGETLB): kill, twice, rr, cont"
else
    crs_fail "System V shared memory on huge pages: the flavours above"
fi

# an image with MAP_HUGETLB memory, restarted without free huge pages
crs_good_image crs_hugepages "$CRS_BIN/crt_hugepages"
echo 0 >/proc/sys/vm/nr_hugepages   # those the hugetlbfs files hold stay, none is free
crs_tool "$WORK/r1" cr_restart "$GOOD"
crs_expect_refusal "cr_restart without free huge pages" "$WORK/r1.err" $? nr_hugepages
echo "$want" >/proc/sys/vm/nr_hugepages
rm -f ready.*
st=$(crs_run "$WORK/r2" "$CRS_TOOLS/cr_restart" "$GOOD")
crs_expect_run "with huge pages reserved again the image restarts" \
    "$WORK/ref.after1" "$WORK/r2" "$st"
crs_summary crs_hugepages
