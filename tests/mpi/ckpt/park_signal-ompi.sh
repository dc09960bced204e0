#!/bin/sh
exec "$(dirname "$0")/park_signal.sh" ompi
