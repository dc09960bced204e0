#!/bin/sh
exec "$(dirname "$0")/sig_ctor.sh" ompi-ucx
