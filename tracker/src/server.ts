import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { clientAddress, rateKey } from "@peercast/origin/service";
import Server, { type SwarmLike } from "bittorrent-tracker/server";
import type { Logger } from "pino";
import { WebSocket, WebSocketServer } from "ws";
import { AddressLimits } from "./address-limits.js";
import { earlyIntervalSec, longestIntervalMs, spreadIntervalSec } from "./announce-interval.js";
import type { TrackerConfig } from "./config.js";
import type { LiveSwarms } from "./live-swarms.js";
import { parseMessage, toHex, type AnnounceMessage, type RejectMessage, type UnreachableMessage } from "./messages.js";
import type { Metrics } from "./metrics.js";
import { MAX_BUFFERED_BYTES, PeerSwarm, type OfferHook } from "./swarm.js";

/** Per-socket state: what it may act as, what it may answer, and its message budget. */
interface Connection {
  socket: WebSocket & { onMessageBound?: (data: string) => void };
  /** The client's address key (rateKey: an IPv4 address or an IPv6 /64), for AddressLimits. */
  addressKey: string;
  /** info hash -> the one peer id this socket announced there (both hex). */
  owned: Map<string, string>;
  /** offer id -> who offered it, from which socket, in which swarm: only these may be answered. */
  offers: Map<string, { fromPeer: string; fromSocket: WebSocket; infoHash: string }>;
  /** info hash -> when this socket last sent offers there. */
  lastOffersMs: Map<string, number>;
  tokens: number;
  refilledMs: number;
  alive: boolean;
  lastMessageMs: number;
}

const MAX_PENDING_OFFERS = 256;

/** The library's Server with our swarms (cheap announces, offer tracking). */
class LibraryServer extends Server {
  /**
   * Set by a swarm for each announce, before the library reads the interval for its answer
   * (synchronously, and more than once).
   */
  private earlyAnswer = false;

  constructor(
    private readonly intervalSec: number,
    private readonly onOffers: OfferHook,
  ) {
    super({ http: false, udp: false, ws: false, stats: false, interval: intervalSec * 1000 });
  }

  /**
   * Read by the library for each WebSocket answer, which tells a fifth of it: each answer its
   * own, and a peer's first few a short one (see EARLY_ANSWERS).
   */
  get intervalMs(): number {
    return spreadIntervalSec(this.earlyAnswer ? earlyIntervalSec(this.intervalSec) : this.intervalSec) * 5000;
  }

  set intervalMs(_ms: number) {
    // The library's constructor sets it; the getter above decides.
  }

  override createSwarm(infoHash: string, cb: (err: Error | null, swarm: SwarmLike) => void): void {
    // Two first announces in one tick must not replace each other's swarm.
    const swarm = (this.torrents[infoHash] ??= new PeerSwarm(infoHash, this.onOffers, (early) => (this.earlyAnswer = early)));
    process.nextTick(() => cb(null, swarm));
  }
}

export interface TrackerServerDeps {
  config: TrackerConfig;
  live: LiveSwarms;
  metrics: Metrics;
  log: Logger;
}

/**
 * The WebSocket tracker: bittorrent-tracker's Server relays offers and answers, behind a
 * layer that admits only live swarms, validates every message, enforces who may act as
 * which peer, and bounds what any one client can cost.
 */
export class TrackerServer {
  private readonly lib: LibraryServer;
  private readonly conns = new Map<WebSocket, Connection>();
  private readonly addresses: AddressLimits;
  /** The players' listener: WebSocket upgrades and /healthz. */
  private readonly http: http.Server;
  /** The operators' listener: /metrics and /stats.json, apart from what players can reach. */
  private readonly metricsHttp: http.Server;
  private readonly wss: WebSocketServer;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly longestIntervalMs: number;

  constructor(private readonly d: TrackerServerDeps) {
    const { limits, announceIntervalSec } = d.config;
    this.lib = new LibraryServer(announceIntervalSec, (ih, from, offers, to) => this.recordOffers(ih, from, offers, to));
    this.longestIntervalMs = longestIntervalMs(announceIntervalSec);
    this.lib.on("warning", (err: Error) => d.log.debug({ err: err.message }, "tracker library warning"));
    this.lib.on("error", (err: Error) => d.log.error({ err: err.message }, "tracker library error"));
    this.addresses = new AddressLimits({
      maxTotal: limits.maxConnections,
      maxOpen: limits.connectionsPerIp,
      newPerMin: limits.newConnectionsPerMin,
      newBurst: limits.newConnectionsBurst,
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
    this.http = http.createServer((req, res) => this.onHttp(req, res));
    this.metricsHttp = http.createServer((req, res) => void this.onMetricsHttp(req, res));
    this.http.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
    this.timers.push(
      setInterval(() => this.heartbeat(), Math.max(1000, limits.idleTimeoutMs / 2)),
      setInterval(() => this.addresses.sweep(), 10_000),
      setInterval(() => this.expirePeers(), announceIntervalSec * 1000),
      setInterval(() => this.updateGauges(), 2000),
    );
  }

  /** Both listeners; resolves with the ports they got (a configured 0 is any free port). */
  async listen(): Promise<{ port: number; metricsPort: number }> {
    const { port, host, metrics } = this.d.config;
    return { port: await listenOn(this.http, port, host), metricsPort: await listenOn(this.metricsHttp, metrics.port, metrics.host) };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.conns.values()) c.socket.terminate();
    this.lib.close();
    await Promise.all([this.http, this.metricsHttp].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }

  /** Sessions that ended: their swarms go, and nobody owns a peer there any more. */
  dropSwarms(infoHashes: string[]): void {
    for (const ih of infoHashes) {
      delete this.lib.torrents[ih];
      for (const c of this.conns.values()) c.owned.delete(ih);
    }
    this.d.log.info({ swarms: infoHashes.length }, "dropped the swarms of ended sessions");
  }

  stats(): { connections: number; liveSwarms: number; activeSwarms: number; peers: number } {
    const swarms = Object.values(this.lib.torrents) as PeerSwarm[];
    return {
      connections: this.conns.size,
      liveSwarms: this.d.live.size,
      activeSwarms: swarms.length,
      peers: swarms.reduce((n, s) => n + s.size, 0),
    };
  }

  private onHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" });
    if (req.url === "/healthz") return json(res, 200, { ok: true, originSeenMsAgo: Date.now() - this.d.live.lastSuccessMs });
    json(res, 404, { error: "not found" });
  }

  private async onMetricsHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== "GET") return json(res, 405, { error: "method not allowed" });
    if (req.url === "/stats.json") return json(res, 200, this.stats());
    if (req.url === "/metrics") {
      res.writeHead(200, { "Content-Type": this.d.metrics.registry.contentType });
      return void res.end(await this.d.metrics.registry.metrics());
    }
    json(res, 404, { error: "not found" });
  }

  /**
   * The key a client's connections are limited under: its address as the origin reads it (the
   * last X-Forwarded-For entry behind a trusted proxy, if it is an IP address), IPv6 by /64 so
   * that one host cannot take a fresh bucket per address of its prefix.
   */
  private addressKey(req: http.IncomingMessage): string {
    return rateKey(clientAddress(req.socket.remoteAddress, String(req.headers["x-forwarded-for"] ?? ""), this.d.config.trustProxy));
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until ws takes over, a reset client must not raise an unhandled error.
    socket.on("error", () => socket.destroy());
    const key = this.addressKey(req);
    const admission = this.addresses.admit(key);
    if (admission !== "ok") {
      this.refuse(admission);
      // A refused WebTorrent client reconnects after 10 s or more (doubling each time).
      const retry = admission === "connections_per_ip" ? "" : "Retry-After: 10\r\n";
      socket.end(`HTTP/1.1 429 Too Many Requests\r\n${retry}Connection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, key));
  }

  private onConnection(socket: WebSocket, req: http.IncomingMessage, addressKey: string): void {
    const c: Connection = {
      socket,
      addressKey,
      owned: new Map(),
      offers: new Map(),
      lastOffersMs: new Map(),
      tokens: this.d.config.limits.messageBurst,
      refilledMs: Date.now(),
      alive: true,
      lastMessageMs: Date.now(),
    };
    this.conns.set(socket, c);
    this.addresses.opened(addressKey);
    // Ours first: a closed socket's peers leave every swarm before the library looks.
    socket.on("close", () => this.onClose(c));
    socket.on("error", (err: Error & { code?: string }) => this.refuse(err.code ?? "socket_error"));
    socket.on("pong", () => (c.alive = true));
    (socket as unknown as { upgradeReq: http.IncomingMessage }).upgradeReq = req;
    this.lib.onWebSocketConnection(socket, { trustProxy: this.d.config.trustProxy });
    // Every message passes our checks before the library sees it.
    const libraryHandler = c.socket.onMessageBound!;
    socket.removeListener("message", libraryHandler);
    socket.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(c, data, isBinary, libraryHandler));
  }

  private onMessage(c: Connection, data: Buffer, isBinary: boolean, forward: (text: string) => void): void {
    // A socket we are closing is done: ws still delivers its messages until the close completes.
    if (c.socket.readyState !== WebSocket.OPEN) return;
    this.d.metrics.messages.inc();
    c.alive = true;
    c.lastMessageMs = Date.now();
    if (isBinary) {
      this.refuse("binary");
      return this.closeFor(c, 1003, "binary frames are not accepted");
    }
    if (!this.takeToken(c)) return;
    const parsed = parseMessage(data.toString("utf8"));
    if (!parsed.ok) return this.fail(c, "invalid", parsed.reason);
    if (parsed.message.action === "peercast_reject") return this.onReject(c, parsed.message);
    if (parsed.message.action === "peercast_unreachable") return this.onUnreachable(c, parsed.message);
    const m = parsed.message;
    const ih = toHex(m.info_hash);
    const pid = toHex(m.peer_id);
    const refusal = this.check(c, m, ih, pid);
    if (refusal) return m.answer ? this.fail(c, refusal[0], refusal[1], m.info_hash) : this.warn(c, refusal[0], refusal[1], m.info_hash);
    if (m.offers) {
      const now = Date.now();
      // A player sends offers when it joins and once an interval after; more often is a flood
      // (each offer makes the receiving browser build a peer connection).
      if (now - (c.lastOffersMs.get(ih) ?? 0) < this.d.config.limits.minOffersGapMs) {
        this.refuse("offers_too_often");
        delete m.offers; // still answered, with no peers
      } else c.lastOffersMs.set(ih, now);
    }
    if (m.event === "stopped") c.owned.delete(ih);
    else c.owned.set(ih, pid);
    if (m.answer) {
      c.offers.delete(m.offer_id!);
      this.d.metrics.relayed.inc({ kind: "answer" });
    } else {
      this.d.metrics.announces.inc();
      if (m.offers?.length) this.d.metrics.relayed.inc({ kind: "offer" }, m.offers.length);
    }
    try {
      // Re-serialised: the library only ever sees fields we validated.
      forward(JSON.stringify(m));
    } catch (err) {
      this.d.log.error({ err: (err as Error).message }, "tracker library failed on a validated message");
    }
  }

  /**
   * A peer of this connection reports one that sent it bytes failing the hash check. Only its
   * own peer's word counts; nothing is answered unless it is refused.
   */
  private onReject(c: Connection, m: RejectMessage): void {
    const at = this.reportedIn(c, m);
    if (!at) return;
    const { ih, reporter, swarm } = at;
    const outcome = swarm.report(reporter, toHex(m.offender), c.addressKey);
    if (outcome === "duplicate") return;
    if (outcome !== "recorded" && outcome !== "banned") return this.refuseReport(c, outcome, m.info_hash);
    this.d.metrics.peerReports.inc();
    if (outcome === "banned") {
      this.d.metrics.peersBanned.inc();
      this.d.log.info({ infoHash: ih, peer: toHex(m.offender) }, "peer banned from its swarm: bad bytes reported from several addresses");
    }
  }

  /** A peer of this connection could not connect to another: the two are not introduced for a while. */
  private onUnreachable(c: Connection, m: UnreachableMessage): void {
    const at = this.reportedIn(c, m);
    if (!at) return;
    const outcome = at.swarm.reports.reportUnreachable(at.reporter, toHex(m.other));
    // Both sides of a failed pair report it: the second is no news.
    if (outcome === "duplicate") return;
    if (outcome !== "recorded") return this.refuseReport(c, outcome, m.info_hash);
    this.d.metrics.unreachableReports.inc();
  }

  /**
   * The swarm a report (either kind) is about, if the swarm is live and the reporter is this
   * connection's own peer there; otherwise the report is refused and undefined returned.
   */
  private reportedIn(c: Connection, m: { info_hash: string; peer_id: string }): { ih: string; reporter: string; swarm: PeerSwarm } | undefined {
    const ih = toHex(m.info_hash);
    const reporter = toHex(m.peer_id);
    if (!this.d.live.get(ih)) return void this.fail(c, "not_live", "this swarm is not live on this tracker's origin", m.info_hash);
    const swarm = this.lib.torrents[ih] as PeerSwarm | undefined;
    if (c.owned.get(ih) !== reporter || !swarm) return void this.fail(c, "not_owner", "this connection has not announced that peer", m.info_hash);
    return { ih, reporter, swarm };
  }

  private refuseReport(c: Connection, outcome: string, infoHash: string): void {
    this.fail(c, `report_${outcome}`, `report not recorded (${outcome.replace("_", " ")})`, infoHash);
  }

  /** Why this socket may not send this announce, as [metric reason, failure reason]; undefined if it may. */
  private check(c: Connection, m: AnnounceMessage, ih: string, pid: string): [string, string] | undefined {
    const { limits } = this.d.config;
    if (!this.d.live.get(ih)) return ["not_live", "this swarm is not live on this tracker's origin"];
    const owned = c.owned.get(ih);
    if (owned !== undefined && owned !== pid) return ["not_owner", "one peer per swarm per connection"];
    const swarm = this.lib.torrents[ih] as PeerSwarm | undefined;
    if (owned === undefined) {
      if (m.answer || m.event === "stopped") return ["not_owner", "this connection has not announced that peer"];
      if (c.owned.size >= limits.swarmsPerConnection) return ["swarms_per_connection", "too many swarms on one connection"];
      const holder = swarm?.find(pid);
      if (holder && holder.socket !== c.socket && !this.evictIfSilent(ih, holder)) {
        return ["peer_id_taken", "peer id in use by another connection"];
      }
    }
    if ((m.offers?.length ?? 0) > limits.offersPerAnnounce) return ["offers_per_announce", "too many offers in one announce"];
    if (m.answer) {
      const offer = c.offers.get(m.offer_id!);
      if (!offer || offer.fromPeer !== toHex(m.to_peer_id!) || offer.infoHash !== ih) {
        return ["unsolicited_answer", "answer to an offer this connection never received"];
      }
      // The answer goes to whoever holds the offerer's id now: it must still be the offerer.
      if (swarm?.find(offer.fromPeer)?.socket !== offer.fromSocket) return ["offerer_gone", "the offering peer is gone"];
      // An offer relayed before one of the two reported the other.
      if (swarm?.reports.avoids(pid, offer.fromPeer)) return ["reported_pair", "one of these peers reported the other"];
    }
    return undefined;
  }

  /**
   * A player that reconnects (new socket) finds its old socket still holding its peer id until
   * that socket is found dead. If the holder has sent nothing for the longest interval, it is evicted.
   */
  private evictIfSilent(infoHash: string, holder: { peerId: string; socket: WebSocket }): boolean {
    const owner = this.conns.get(holder.socket);
    if (owner && Date.now() - owner.lastMessageMs < this.longestIntervalMs) return false;
    (this.lib.torrents[infoHash] as PeerSwarm).remove(holder.peerId);
    owner?.owned.delete(infoHash);
    this.refuse("evicted_silent_holder");
    return true;
  }

  private recordOffers(infoHash: string, fromPeer: string, offers: { offer_id: string }[], to: { socket: WebSocket }[]): void {
    const fromSocket = (this.lib.torrents[infoHash] as PeerSwarm | undefined)?.find(fromPeer)?.socket;
    if (!fromSocket) return;
    to.forEach((peer, i) => {
      const target = this.conns.get(peer.socket);
      const offer = offers[i];
      if (!target || !offer) return;
      target.offers.set(offer.offer_id, { fromPeer, fromSocket, infoHash });
      if (target.offers.size > MAX_PENDING_OFFERS) target.offers.delete(target.offers.keys().next().value!);
    });
  }

  /** Token bucket per connection; a client far over its budget is disconnected. */
  private takeToken(c: Connection): boolean {
    const { messagesPerSec, messageBurst } = this.d.config.limits;
    const now = Date.now();
    c.tokens = Math.min(messageBurst, c.tokens + ((now - c.refilledMs) / 1000) * messagesPerSec);
    c.refilledMs = now;
    c.tokens -= 1;
    if (c.tokens >= 0) return true;
    this.refuse("rate");
    if (c.tokens < -messageBurst) this.closeFor(c, 1008, "message rate limit");
    else c.socket.send(JSON.stringify({ action: "announce", "failure reason": "rate limited, slow down" }));
    return false;
  }

  /** Closes a socket for abuse: its peers leave at once, not when the close completes. */
  private closeFor(c: Connection, code: number, reason: string): void {
    this.dropPeers(c);
    c.socket.close(code, reason);
  }

  /**
   * A refused announce still gets an ordinary answer (no peers) with a warning: the client
   * re-arms its announce timer only from an answer's interval, so a bare failure would silence
   * a real player for good after one refusal.
   */
  private warn(c: Connection, metricReason: string, reason: string, infoHash: string): void {
    this.refuse(metricReason);
    const interval = spreadIntervalSec(this.d.config.announceIntervalSec);
    c.socket.send(JSON.stringify({ action: "announce", info_hash: infoHash, interval, complete: 0, incomplete: 0, "warning message": reason }));
  }

  private fail(c: Connection, metricReason: string, reason: string, infoHash?: string): void {
    this.refuse(metricReason);
    const body: Record<string, string> = { action: "announce", "failure reason": reason };
    if (infoHash) body.info_hash = infoHash;
    c.socket.send(JSON.stringify(body));
  }

  private refuse(reason: string): void {
    this.d.metrics.refused.inc({ reason });
  }

  private dropPeers(c: Connection): void {
    for (const [ih, pid] of c.owned) {
      const swarm = this.lib.torrents[ih] as PeerSwarm | undefined;
      if (swarm?.find(pid)?.socket === c.socket) swarm.remove(pid);
    }
    c.owned.clear();
    c.offers.clear();
  }

  private onClose(c: Connection): void {
    this.dropPeers(c);
    this.conns.delete(c.socket);
    this.addresses.closed(c.addressKey);
  }

  private heartbeat(): void {
    for (const c of this.conns.values()) {
      // A client that never reads what it is sent would make us hold it all: cut it.
      const slow = c.socket.bufferedAmount > 4 * MAX_BUFFERED_BYTES;
      if (!c.alive || slow) {
        this.refuse(slow ? "slow_reader" : "idle");
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }

  /** Peers that stopped announcing for two of the longest intervals leave their swarms. */
  private expirePeers(): void {
    const before = Date.now() - 2 * this.longestIntervalMs;
    for (const [ih, swarm] of Object.entries(this.lib.torrents) as [string, PeerSwarm][]) {
      for (const peer of swarm.expire(before)) {
        const owner = this.conns.get(peer.socket);
        if (owner?.owned.get(ih) === peer.peerId) owner.owned.delete(ih);
      }
      // A swarm's bans last as long as its session (dropSwarms), even while nobody is in it.
      if (swarm.size === 0 && swarm.reports.bans === 0) delete this.lib.torrents[ih];
    }
  }

  private updateGauges(): void {
    const s = this.stats();
    this.d.metrics.connections.set(s.connections);
    this.d.metrics.peers.set(s.peers);
    this.d.metrics.swarms.set(s.liveSwarms);
    const byStream = new Map<string, number>();
    for (const [ih, swarm] of Object.entries(this.lib.torrents) as [string, PeerSwarm][]) {
      const stream = this.d.live.get(ih)?.stream;
      if (stream) byStream.set(stream, (byStream.get(stream) ?? 0) + swarm.size);
    }
    // Reset first: a stream whose swarms are gone must not keep its last count.
    this.d.metrics.streamPeers.reset();
    for (const [stream, n] of byStream) this.d.metrics.streamPeers.set({ stream }, n);
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-cache" });
  res.end(JSON.stringify(body));
}

function listenOn(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
