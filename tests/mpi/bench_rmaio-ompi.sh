#!/bin/sh
exec "$(dirname "$0")/bench_rmaio.sh" ompi
