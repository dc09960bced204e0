#!/bin/sh
# A periodic POSIX timer's queued signal (blocked) keeps its overrun across
# the checkpoint even when the timer queues it again while the capture takes
# it: REVIVE_FAULT=capture-timer-late makes the capture wait 3 ms after its
# first take of a timer's signal, so that crt_timershare's 2 ms timer fires
# again before the next take, as when the capturing thread is preempted. The
# second take's overrun (0) once replaced the first's, and the image held
# overrun 0 (CI session 24, crs_timershare flavour tty: "overrun 4" after a
# point of 291 ms, the signal pending 30 ms before it). cont: the original
# runs on from the capture's take, then a restart from the image; both must
# give fast's overrun at least its periods from its first expiry to the point.
CRS_FLAVOURS="cont" REVIVE_FAULT=capture-timer-late \
    exec bash "$(dirname "$0")/../cr_cycle.sh" crt_timershare
