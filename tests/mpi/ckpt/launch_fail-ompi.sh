#!/bin/sh
exec "$(dirname "$0")/launch_fail.sh" ompi
