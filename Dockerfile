# dockgate container image: the admission proxy in front of the Docker socket it is given.
#
#   docker build -t dockgate .                          compiles the Rego bundle with the pinned opa
#                                                       (builds opa from tools/opa: a few minutes)
#   docker build -t dockgate --target prebuilt-policy .  ships the committed policy/dist bundle instead
#                                                       (CI checks it rebuilds byte for byte)
#
#   docker run -d --name dockgate --network none \
#     --group-add "$(stat -c %g /var/run/docker.sock)" \
#     -v /var/run/docker.sock:/var/run/docker.sock -v dockgate-socket:/run/dockgate dockgate
#
# Runs as the unprivileged user dockgate (10001:10001); the group of the daemon's socket, added
# with --group-add, is what lets it connect. Configuration: /etc/dockgate/dockgate.yaml (a volume;
# see deploy/container/dockgate.yaml). Node 24: Node 20 is end of life and dockgate targets 24.
# The stages use only what the classic builder understands, so both builders produce the image.

# TypeScript → dist/ (dev dependencies stay in this stage). --ignore-scripts: nothing here needs an
# install script, and the `node` dev dependency would otherwise download a second Node.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Production dependencies only, exactly as locked.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Everything but the policy bundle.
FROM node:24-bookworm-slim AS runtime-base
ENV NODE_ENV=production
# A fixed numeric user (no useradd: works on any base with a shell); /run/dockgate must be
# writable by it, and a named volume mounted there inherits this ownership.
RUN echo 'dockgate:x:10001:10001:dockgate:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'dockgate:x:10001:' >> /etc/group \
 && mkdir -p /etc/dockgate /run/dockgate \
 && chown 10001:10001 /run/dockgate
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The config schema is read at start-up (every config file is validated against it).
COPY config/dockgate.schema.json ./config/dockgate.schema.json
RUN chmod 0755 dist/cli/main.js && ln -s /app/dist/cli/main.js /usr/local/bin/dockgate
COPY deploy/container/dockgate.yaml /etc/dockgate/dockgate.yaml
VOLUME ["/etc/dockgate"]
# /healthz of the admin listener, which the shipped configs put on the container's loopback
# (`admin: 127.0.0.1:9323`); a config of your own needs the same line. No curl in the image: Node.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9323/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
USER 10001:10001
ENTRYPOINT ["dockgate", "serve"]
CMD ["--config", "/etc/dockgate/dockgate.yaml"]

# --target prebuilt-policy: the committed bundle. It comes before the Go stage so the classic
# builder, which builds every stage up to the target, never needs the Go image for it.
FROM runtime-base AS prebuilt-policy
COPY policy/dist/dockgate.tar.gz ./policy/dist/dockgate.tar.gz

# The Rego library and profiles compiled to wasm by the opa pinned in tools/opa/go.mod.
FROM golang:1.26-bookworm AS bundles
WORKDIR /src
COPY tools/opa ./tools/opa
RUN mkdir -p .cache/bin && cd tools/opa && go build -o /src/.cache/bin/opa github.com/open-policy-agent/opa
COPY scripts/build-policy.sh scripts/opa.sh ./scripts/
COPY policy ./policy
RUN scripts/build-policy.sh dockgate

# The default target.
FROM runtime-base AS runtime
COPY --from=bundles /src/policy/dist/dockgate.tar.gz ./policy/dist/dockgate.tar.gz
