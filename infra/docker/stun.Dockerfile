# Peercast STUN server: Debian's coturn, STUN only. Viewers learn their public address from it to
# connect to each other; it relays nothing (a viewer who cannot reach a peer directly takes the
# segment over HTTP). Build from the repository root:
#   docker build -f infra/docker/stun.Dockerfile -t peercast-stun .
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# A base that has coturn already (the compose test's, built offline) skips apt.
RUN command -v turnserver >/dev/null || (apt-get update && apt-get install -y --no-install-recommends coturn && rm -rf /var/lib/apt/lists/*)
# coturn opens its (unused) user database in /var/lib/turn even when it only answers STUN.
RUN useradd --system --uid 10001 --no-create-home --home-dir /var/lib/turn peercast \
 && mkdir -p /var/lib/turn && chown -R peercast /var/lib/turn
USER peercast
EXPOSE 3478/udp 3478/tcp
# A real STUN binding request to the server's own listener.
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["turnutils_stunclient", "127.0.0.1"]
# --stun-only: TURN requests (allocations, i.e. relaying) are ignored. No CLI, no TLS/DTLS
# listeners (browsers use plain STUN over UDP), logs to stdout, no version in answers.
CMD ["turnserver", "-n", "--stun-only", "--listening-ip=0.0.0.0", "--listening-port=3478", "--no-cli", "--no-tls", "--no-dtls", "--no-software-attribute", "--log-file=stdout", "--simple-log"]
