// The baseline for the benchmark: bittorrent-tracker's own Server, WebSocket only, defaults.
import type { AddressInfo } from "node:net";
import Server from "bittorrent-tracker/server";

const server = new Server({ http: false, udp: false, ws: true, stats: false }) as Server & {
  listen(port: number, host: string, cb: () => void): void;
  ws: { address(): AddressInfo };
};
server.on("warning", () => undefined);
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ msg: "tracker ready", port: server.ws.address().port }) + "\n");
});
