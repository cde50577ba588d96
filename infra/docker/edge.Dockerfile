# Peercast edge: Debian's nginx with infra/nginx (cache, TLS, tracker shard routing).
# Build from the repository root: docker build -f infra/docker/edge.Dockerfile -t peercast-edge .
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# A base that has nginx and envsubst already (the compose test's, built offline) skips apt.
RUN (command -v nginx && command -v envsubst) >/dev/null || (apt-get update && apt-get install -y --no-install-recommends nginx gettext-base && rm -rf /var/lib/apt/lists/*)
COPY infra/nginx /srv/peercast/infra/nginx
RUN useradd --system --uid 10001 --home-dir /var/cache/peercast-nginx peercast \
 && mkdir -p /var/cache/peercast-nginx && chown peercast /var/cache/peercast-nginx
USER peercast
ENV PEERCAST_NGINX_PREFIX=/var/cache/peercast-nginx PEERCAST_NGINX_LISTEN=8080 PEERCAST_NGINX_TLS_LISTEN=8443
EXPOSE 8080 8443
# perl-base is part of every Debian image: no curl needed to see that nginx answers.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD ["perl", "-MIO::Socket::INET", "-e", "exit !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => ($ENV{PEERCAST_NGINX_LISTEN} =~ /(\\d+)$/)[0])"]
CMD ["sh", "/srv/peercast/infra/nginx/start-nginx.sh"]
