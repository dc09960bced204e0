#!/bin/sh
# save_mpifile: --save-files of a file the job has open through MPI-IO (save_mpifile.sh)
exec "$(dirname "$0")/save_mpifile.sh" ompi
