// A WebSocket client that speaks the tracker protocol by hand, so tests can send anything.
import { WebSocket } from "ws";

export class RawClient {
  readonly ws: WebSocket;
  readonly received: Record<string, unknown>[] = [];
  closed: { code: number } | undefined;
  readonly opened: Promise<void>;

  /** `headers`: extra handshake headers (X-Forwarded-For, as a proxy would add it). */
  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.ws.on("error", () => undefined);
    this.ws.on("message", (d) => {
      try {
        this.received.push(JSON.parse((d as Buffer).toString("utf8")) as Record<string, unknown>);
      } catch {
        /* not ours to judge */
      }
    });
    this.ws.on("close", (code) => (this.closed = { code }));
  }

  static async open(url: string, headers?: Record<string, string>): Promise<RawClient> {
    const c = new RawClient(url, headers);
    await c.opened;
    return c;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Waits for a message matching `pred` received after call time. */
  async next(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const from = this.received.length;
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(from)).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends `message` and returns the refusal: a failure, or a warning on an ordinary answer. */
  async failure(message: unknown): Promise<string> {
    this.send(message);
    const m = await this.next((x) => "failure reason" in x || "warning message" in x);
    return String(m["failure reason"] ?? m["warning message"]);
  }

  close(): void {
    this.ws.close();
  }
}

/** A 20-character id, like the binary strings clients send. */
export const id20 = (prefix: string) => (prefix + "x".repeat(20)).slice(0, 20);

export const announce = (infoHash: string, peerId: string, extra: Record<string, unknown> = {}) => ({
  action: "announce",
  info_hash: infoHash,
  peer_id: peerId,
  numwant: 5,
  left: null,
  ...extra,
});

export const offers = (n: number, tag = "o") =>
  Array.from({ length: n }, (_, i) => ({ offer: { type: "offer", sdp: `v=0 fake ${i}` }, offer_id: id20(`${tag}${i}-`) }));

/** An announce the tracker accepted: an answer with an interval and no refusal in it. */
export const accepted = (m: Record<string, unknown>) => m.interval !== undefined && !("warning message" in m) && !("failure reason" in m);
