#!/bin/sh
# Open MPI's dynamic windows need CMA (vader's single copy: the default "none" stops them)
REVIVE_TEST_SINGLE_COPY=cma exec "$(dirname "$0")/rst_pscw.sh" ompi rst_dynwin 2 16
