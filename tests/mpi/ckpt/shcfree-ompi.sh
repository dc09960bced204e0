#!/bin/sh
exec "$(dirname "$0")/shcfree.sh" ompi
