#!/bin/sh
# State test: pipes whose both ends the process holds (bytes in them at the
# checkpoint, a non-blocking one, a dup of a read end), every flavour.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_pipes
