#!/bin/sh
exec "$(dirname "$0")/stagelost.sh" ompi
