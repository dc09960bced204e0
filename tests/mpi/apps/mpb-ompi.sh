#!/bin/sh
exec "$(dirname "$0")/mpb.sh" ompi
