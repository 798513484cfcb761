#!/bin/sh
# Checks compose.yaml with docker-compose's own parser (the Debian package
# works without a Docker engine). Where docker-compose is not installed the
# check cannot run: exit 77, which CTest reports as skipped (SKIP_RETURN_CODE),
# with the reason on stdout, instead of failing on a tool the project does not
# need to build or test.
set -eu
compose_file=${1:?usage: compose_config.sh COMPOSE_FILE}
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "SKIP: docker-compose is not installed (apt-get install docker-compose); compose.yaml not checked"
  exit 77
fi
exec docker-compose -f "$compose_file" config -q
