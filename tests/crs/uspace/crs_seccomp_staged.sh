#!/bin/sh
# State test: a staged sandbox (a worker's first seccomp filter forbids
# openat, its second and its child thread's third go in afterwards) runs
# under cr_run and comes back after a restart in every flavour, as the
# uninterrupted run (diffrev19 MEDIUM-K: libcr read /proc at each install,
# which the first filter forbade, and every checkpoint was refused).
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_seccomp_staged
