#!/bin/sh
# State test: 200 threads (half on a condition variable) at each checkpoint
# point keep their TLS and join, every flavour; each image holds 202 threads
# (the 200, main, Revive's checkpoint thread).
CRS_IMAGE_THREADS=202 exec bash "$(dirname "$0")/../cr_cycle.sh" crt_many_threads
