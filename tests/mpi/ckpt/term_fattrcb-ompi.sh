#!/bin/sh
exec "$(dirname "$0")/term_attrcb.sh" ompi term_fattrcb
