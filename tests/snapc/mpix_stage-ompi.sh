#!/bin/sh
# MPIX_Checkpoint and staging, ompi (see mpix_stage.sh)
exec "$(dirname "$0")/mpix_stage.sh" ompi
