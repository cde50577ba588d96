# Peercast tracker: the players' WebSocket tracker for live swarms.
# Build from the repository root: docker build -f infra/docker/tracker.Dockerfile -t peercast-tracker .
FROM node:20-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY origin/package.json origin/
COPY tracker/package.json tracker/
COPY player/package.json player/
COPY dashboard/package.json dashboard/
COPY infra/package.json infra/
RUN npm ci --no-audit --no-fund
COPY origin origin
COPY tracker tracker
RUN node_modules/.bin/tsc -b tracker && npm prune --omit=dev --workspace tracker --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /srv/peercast
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
# The tracker imports the origin's wire types and service helpers (@peercast/origin).
COPY --from=build /src/origin/package.json origin/
COPY --from=build /src/origin/dist/src origin/dist/src
COPY --from=build /src/tracker/package.json tracker/
COPY --from=build /src/tracker/dist/src tracker/dist/src
RUN useradd --system --uid 10001 --home-dir /srv/peercast peercast
USER peercast
ENV PEERCAST_TRACKER_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PEERCAST_TRACKER_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "tracker/dist/src/main.js"]
