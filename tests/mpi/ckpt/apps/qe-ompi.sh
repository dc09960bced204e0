#!/bin/sh
# Quantum ESPRESSO (pw.x) checkpointed mid-run (between MD steps' SCF iterations) and restarted, Open MPI (qe.sh)
exec "$(dirname "$0")/qe.sh" ompi
