#!/bin/sh
exec "$(dirname "$0")/stop_term.sh" ompi KILL
