#!/bin/sh
# State test: edge-triggered epoll watches whose edge the program consumed
# (the file still readable) and one-shot watches that fired are not reported
# again after a restart, while waiting edges and armed one-shots are, in
# every flavour, and the original's ready lists stay as they were (cont,
# fork) (review HIGH-5: a restart reported the consumed edges again, and the
# fired one-shot fired again).
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_epollet
