#!/bin/sh
# pmpi_tool: a PMPI profiling tool, preloaded or linked, runs under Revive as natively, across a snapshot (pmpi_tool.sh)
exec "$(dirname "$0")/pmpi_tool.sh" mpich
