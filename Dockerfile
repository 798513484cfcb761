# One image for the server, the workers and the reviewers.
#
#   docker build --build-arg AGENTQ_GIT_COMMIT=$(git rev-parse --short=12 HEAD) -t agentq .
#
# Build arguments (all optional):
#   AGENTQ_GIT_COMMIT  the commit `agentq --version` reports (the build
#                      context has no .git; default "unknown")
#   AGENTQ_SRC_DIR     where the sources are compiled [/src]
#   AGENTQ_WERROR      ON: warnings are errors, as in CI [OFF]
#   AGENTQ_CCACHE      on: compile through ccache with its cache in /ccache,
#                      which the builder mounts (podman build -v DIR:/ccache).
#                      tests/compose/run does this with the host's cache and
#                      AGENTQ_SRC_DIR set to the host's checkout, so the
#                      compile reuses the host's build (same paths, same
#                      flags, same Debian g++). [off]
#   AGENTQ_CCACHE_BASEDIR  the host's ccache base_dir, and
#   AGENTQ_CCACHE_LANG     the host's LANG (ccache hashes it), for the same reason

# Build stage: Debian bookworm with the same packages scripts/test installs.
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config ca-certificates ccache \
      libpqxx-dev libboost-dev libboost-system-dev nlohmann-json3-dev \
      libgit2-dev libspdlog-dev \
 && rm -rf /var/lib/apt/lists/*
ARG AGENTQ_SRC_DIR=/src
ARG AGENTQ_GIT_COMMIT=unknown
ARG AGENTQ_WERROR=OFF
ARG AGENTQ_CCACHE=off
ARG AGENTQ_CCACHE_BASEDIR=""
ARG AGENTQ_CCACHE_LANG=""
WORKDIR ${AGENTQ_SRC_DIR}
COPY . .
# RelWithDebInfo like scripts/test (so ccache can reuse its objects), then
# stripped: the image carries no debug information.
RUN if [ "$AGENTQ_CCACHE" = on ] && [ -d /ccache ]; then \
      export CCACHE_DIR=/ccache CCACHE_BASEDIR="$AGENTQ_CCACHE_BASEDIR" \
             CCACHE_STATSLOG=/tmp/ccache-stats.log; \
      if [ -n "$AGENTQ_CCACHE_LANG" ]; then export LANG="$AGENTQ_CCACHE_LANG"; fi; \
    else \
      export CCACHE_DISABLE=1; \
    fi \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
      -DAGENTQ_WERROR="$AGENTQ_WERROR" -DAGENTQ_GIT_COMMIT="$AGENTQ_GIT_COMMIT" >/dev/null \
 && cmake --build build -j"$(nproc)" --target agentq agentq-worker agentq-reviewer \
 && if [ -z "${CCACHE_DISABLE:-}" ]; then ccache --show-log-stats | grep -E 'Hits|Misses' || true; fi \
 && mkdir -p /out \
 && cp build/queue/cli/agentq build/worker/agentq-worker build/reviewer/agentq-reviewer /out/ \
 && strip /out/* \
 && rm -rf build

# Run stage: only the runtime libraries, no compiler. git, a shell and jq are
# there for the agent and review commands the runners start.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpqxx-6.4 libgit2-1.5 libspdlog1.10 libmbedcrypto7 libboost-system1.74.0 \
      ca-certificates git bash jq \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 agentq \
 && mkdir -p /srv/git && chown agentq:agentq /srv/git
COPY --from=build /out/ /usr/local/bin/
COPY scripts/agents/ /usr/local/share/agentq/agents/
COPY scripts/docker/ /usr/local/share/agentq/docker/
USER agentq
WORKDIR /home/agentq
ENV AGENTQ_WORKDIR=/home/agentq/work
EXPOSE 7420
ENTRYPOINT ["/usr/local/share/agentq/docker/entrypoint.sh"]
CMD ["agentq", "--help"]
