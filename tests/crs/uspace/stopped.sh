#!/bin/sh
# cr_checkpoint of a stopped process must not hang: one message saying so,
# non-zero exit, no file left; once continued, the checkpoint works and the
# image restarts (the "stopped" flavour of cr_cycle.sh, with crt_ids).
CRS_FLAVOURS=stopped exec bash "$(dirname "$0")/../cr_cycle.sh" crt_ids
