# One image for the server, the workers and the reviewers.
# Build stage: Debian bookworm with the same packages scripts/test installs.
FROM debian:bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config ca-certificates \
      libpqxx-dev libboost-dev libboost-system-dev nlohmann-json3-dev \
      libgit2-dev libspdlog-dev catch2 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" \
 && mkdir -p /out \
 && cp /build/queue/cli/agentq /build/worker/agentq-worker /build/reviewer/agentq-reviewer /out/

# Run stage: only the runtime libraries. git and a shell are there for the
# agent and review commands the runners start.
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
