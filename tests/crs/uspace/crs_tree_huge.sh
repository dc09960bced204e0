#!/bin/bash
# State test (issue 10, points 1 and 8): MAP_SHARED|MAP_ANONYMOUS|MAP_HUGETLB
# memory a tree's members share (crt_tree CRT_TREE=hugeshm: two 2 MiB pages
# mapped before the fork, each writing to both before point 1 and after,
# each seeing the other's writes) comes back as one memory on 2 MiB pages,
# checkpointed with --tree and compared with an uninterrupted run, through
# the flavours kill, twice, rr, cont, fork and compress. As root only: the
# test reserves huge pages for itself (vm.nr_hugepages, put back at the end,
# under /tmp/revive-hugepages.lock as crs_hugepages.sh); not every flavour,
# for the reason crs_hugepages.sh gives (an ended process's huge pages come
# back late under load).
. "$(dirname "$0")/../crs_lib.sh"
crs_own_ipc "$@"
crs_setup crs_tree_huge
crs_hugepages_raise crs_tree_huge 48 24
case $? in
1) echo "SKIP: the kernel gave $CRS_HUGEPAGES_GOT huge pages, not 24"; exit 77 ;;
2) echo "SKIP: huge pages: not root (vm.nr_hugepages)"; exit 77 ;;
esac
if CRT_TREE=hugeshm CRS_CKPT_SCOPE=--tree CRS_FLAVOURS="kill twice rr cont fork compress" \
    bash "$(dirname "$0")/../cr_cycle.sh" crt_tree; then
    crs_pass "hugeshm: the flavours above"
else
    crs_fail "hugeshm: the flavours above"
fi
crs_summary crs_tree_huge
