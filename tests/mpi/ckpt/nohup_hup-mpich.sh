#!/bin/sh
exec "$(dirname "$0")/nohup_hup.sh" mpich
