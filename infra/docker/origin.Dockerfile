# Peercast origin: RTMP ingest, ffmpeg ladder, HLS, player and dashboard pages.
# Build from the repository root with BuildKit (Docker 23+, or DOCKER_BUILDKIT=1):
#   docker build -f infra/docker/origin.Dockerfile -t peercast-origin .
# BASE: the runtime image (Debian bookworm with Node 20). APP_FROM=prebuilt takes the app from a
# context that already holds it built (package.json, production node_modules, origin/dist/src,
# player/dist/www, dashboard/dist/www) instead of building it with npm: what the compose test
# does where no image registry is reachable. BuildKit builds only the stage APP_FROM names.
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
COPY player player
COPY dashboard dashboard
RUN node_modules/.bin/tsc -b origin player dashboard && node player/scripts/bundle.mjs && node dashboard/scripts/bundle.mjs \
 && npm prune --omit=dev --workspace origin --no-audit --no-fund

FROM scratch AS app-prebuilt
COPY . /src

FROM app-${APP_FROM} AS app

FROM ${BASE}
# ffmpeg from Debian's package, as on a host (`npm start` installs the same one); a base that
# has it already (the compose test's, built offline) skips apt.
RUN command -v ffmpeg >/dev/null || (apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*)
WORKDIR /srv/peercast
COPY --from=app /src/package.json ./
COPY --from=app /src/node_modules node_modules
COPY --from=app /src/origin/package.json origin/
COPY --from=app /src/origin/dist/src origin/dist/src
COPY --from=app /src/player/dist/www player/dist/www
COPY --from=app /src/dashboard/dist/www dashboard/dist/www
RUN useradd --system --uid 10001 --home-dir /srv/peercast peercast && mkdir -p /data && chown peercast /data
USER peercast
ENV PEERCAST_DATA_DIR=/data PEERCAST_HTTP_PORT=8080 PEERCAST_RTMP_PORT=1935
VOLUME /data
EXPOSE 8080 1935
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PEERCAST_HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "origin/dist/src/main.js"]
