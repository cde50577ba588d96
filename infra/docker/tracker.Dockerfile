# Peercast tracker: the players' WebSocket tracker for live swarms.
# Build from the repository root with BuildKit (Docker 23+, or DOCKER_BUILDKIT=1):
#   docker build -f infra/docker/tracker.Dockerfile -t peercast-tracker .
# BASE and APP_FROM as in origin.Dockerfile (prebuilt: package.json, production node_modules,
# origin/dist/src and tracker/dist/src already in the context).
ARG BASE=node:20-bookworm-slim
ARG BUILD_BASE=node:20-bookworm
ARG APP_FROM=source

FROM ${BUILD_BASE} AS app-source
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY origin/package.json origin/
COPY tracker/package.json tracker/
COPY player/package.json player/
COPY dashboard/package.json dashboard/
COPY loadtest/package.json loadtest/
COPY infra/package.json infra/
RUN npm ci --no-audit --no-fund
COPY origin origin
COPY tracker tracker
RUN node_modules/.bin/tsc -b tracker && npm prune --omit=dev --workspace tracker --no-audit --no-fund

FROM scratch AS app-prebuilt
COPY . /src

FROM app-${APP_FROM} AS app

FROM ${BASE}
WORKDIR /srv/peercast
COPY --from=app /src/package.json ./
COPY --from=app /src/node_modules node_modules
# The tracker imports the origin's wire types and service helpers (@peercast/origin).
COPY --from=app /src/origin/package.json origin/
COPY --from=app /src/origin/dist/src origin/dist/src
COPY --from=app /src/tracker/package.json tracker/
COPY --from=app /src/tracker/dist/src tracker/dist/src
RUN useradd --system --uid 10001 --home-dir /srv/peercast peercast
USER peercast
ENV PEERCAST_TRACKER_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PEERCAST_TRACKER_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "tracker/dist/src/main.js"]
