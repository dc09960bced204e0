#!/bin/sh
exec "$(dirname "$0")/term_dlopen.sh" ompi
