#!/bin/sh
# The relay image's entrypoint, with coturn's image contract: arguments may
# hold `$(detect-external-ip)` and `$VARIABLES` (the ECS task definition passes
# them unexpanded, e.g. --static-auth-secret=$TURN_SECRET from Secrets
# Manager); they are expanded here, then `otter relay` runs with them.
# Arguments that start with '-' are flags for `otter relay`.
set -e
case "$1" in
  -*) set -- otter relay "$@" ;;
esac
exec $(eval "echo $@")
