#!/bin/sh
exec "$(dirname "$0")/shorphan.sh" ompi
