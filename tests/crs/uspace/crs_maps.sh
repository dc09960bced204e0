#!/bin/sh
# State test: 20000 one-page anonymous mappings and 2000 private file mappings
# that the kernel cannot merge (CRT_MAPS changes the count), every flavour.
# The restorer once read its own memory map into a table of 512 entries and
# refused every image of more than about 450 mappings.
exec bash "$(dirname "$0")/../cr_cycle.sh" crt_maps
