#!/bin/sh
# NWChem checkpointed mid-run and restarted, Open MPI (nwchem.sh)
exec "$(dirname "$0")/nwchem.sh" ompi
