#!/bin/sh
exec "$(dirname "$0")/stagelost3.sh" mpich
