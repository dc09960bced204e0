#!/bin/sh
exec "$(dirname "$0")/launch_intr.sh" ompi
