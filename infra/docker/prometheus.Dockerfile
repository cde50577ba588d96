# Prometheus from Debian's package, for hosts that cannot pull prom/prometheus (the compose test
# builds it on its offline Debian base); compose.yaml uses the public image. Same layout as that
# image: the binary as entrypoint, storage in /prometheus, the config at
# /etc/prometheus/prometheus.yml, promtool for the health check.
#   docker build -f infra/docker/prometheus.Dockerfile -t peercast-prometheus .
ARG BASE=debian:bookworm-slim
FROM ${BASE}
RUN command -v prometheus >/dev/null || (apt-get update && apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/*)
RUN useradd --system --uid 10001 --no-create-home --home-dir /prometheus peercast \
 && mkdir -p /prometheus && chown peercast /prometheus
USER peercast
WORKDIR /prometheus
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["promtool", "query", "instant", "http://127.0.0.1:9090", "vector(1)"]
ENTRYPOINT ["prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
