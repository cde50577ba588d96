# Peercast origin: RTMP ingest, ffmpeg ladder, HLS, player and dashboard pages.
# Build from the repository root: docker build -f infra/docker/origin.Dockerfile -t peercast-origin .
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
COPY player player
COPY dashboard dashboard
RUN node_modules/.bin/tsc -b origin player dashboard && node player/scripts/bundle.mjs && node dashboard/scripts/bundle.mjs \
 && npm prune --omit=dev --workspace origin --no-audit --no-fund

FROM node:20-bookworm-slim
# ffmpeg from Debian's package, as on a host (`npm start` installs the same one).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/peercast
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/origin/package.json origin/
COPY --from=build /src/origin/dist/src origin/dist/src
COPY --from=build /src/player/dist/www player/dist/www
COPY --from=build /src/dashboard/dist/www dashboard/dist/www
RUN useradd --system --uid 10001 --home-dir /srv/peercast peercast && mkdir -p /data && chown peercast /data
USER peercast
ENV PEERCAST_DATA_DIR=/data PEERCAST_HTTP_PORT=8080 PEERCAST_RTMP_PORT=1935
VOLUME /data
EXPOSE 8080 1935
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PEERCAST_HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "origin/dist/src/main.js"]
