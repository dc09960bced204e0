#!/bin/sh
# lower_inner: the MPI library's libc calls that open a descriptor inside themselves (getifaddrs, sysconf, getaddrinfo...), widened by strace, while a thread forks during MPI_Init: no child holds one (lower_inner.sh)
exec "$(dirname "$0")/lower_inner.sh" mpich
