#!/bin/sh
exec "$(dirname "$0")/rst_attr.sh" ompi
