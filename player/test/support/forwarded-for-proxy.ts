// A proxy in front of the tracker that adds X-Forwarded-For, as an edge does, so that to a
// tracker that trusts proxies (PEERCAST_TRACKER_TRUST_PROXY=1) viewers are clients at addresses
// of their own, though every browser here connects from 127.0.0.1. It takes the pages' tracker
// port (their CSP allows WebSockets to that port only); the address it adds is the one a page
// put in its tracker URL's `via` parameter (webSocketsVia), none without one.
import http from "node:http";
import net from "node:net";
import type { Duplex } from "node:stream";

export interface ForwardedForProxy {
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:`port`, forwards WebSocket upgrades to the tracker on `trackerPort`. */
export async function forwardedForProxy(port: number, trackerPort: number): Promise<ForwardedForProxy> {
  const sockets = new Set<Duplex>();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on("upgrade", (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const via = new URL(req.url ?? "/", "http://x").searchParams.get("via");
    const upstream = net.connect(trackerPort, "127.0.0.1", () => {
      const headers: string[] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        if (req.rawHeaders[i]!.toLowerCase() !== "x-forwarded-for") headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      if (via) headers.push(`X-Forwarded-For: ${via}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [upstream, client]) {
      sockets.add(s);
      s.on("error", () => (upstream.destroy(), client.destroy()));
      s.on("close", () => (sockets.delete(s), upstream.destroy(), client.destroy()));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A page script that marks the page's WebSockets to port `trackerPort` as coming from `address`. */
export const webSocketsVia = (trackerPort: number, address: string) => `(() => {
  const Native = WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      const u = new URL(url);
      if (u.port === "${trackerPort}") u.searchParams.set("via", "${address}");
      super(u.href, protocols);
    }
  };
})();`;
