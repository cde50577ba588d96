// An origin with nothing live, for tests of what needs no swarm (connections, listeners).
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface EmptyOrigin {
  http: string;
  stop(): Promise<void>;
}

export async function startEmptyOrigin(): Promise<EmptyOrigin> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ streams: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    http: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the tracker's kept-alive polls
      }),
  };
}
