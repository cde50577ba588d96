import type { AnnounceParams, AnnounceResponse, SwarmLike } from "bittorrent-tracker/server";
import type { WebSocket } from "ws";
import { PeerReports, type ReportOutcome } from "./peer-reports.js";

export interface Peer {
  peerId: string;
  socket: WebSocket;
  complete: boolean;
  lastSeenMs: number;
  /** Announces answered so far. */
  answers: number;
}

/**
 * A peer's first answers tell it to announce again soon (see announce-interval.ts): each
 * announce carries its 5 offers, and a viewer introduced to only the 5 peers of its first one
 * for a whole interval left most pairs of a small swarm unmet (at N = 10, 35 of 45 pairs).
 */
export const EARLY_ANSWERS = 3;

/** A socket with more than this waiting to be sent gets no more offers. */
export const MAX_BUFFERED_BYTES = 256 * 1024;

/** Told which peer got which offer, so that only real answers are relayed back. */
export type OfferHook = (infoHash: string, fromPeerId: string, offers: { offer_id: string }[], to: Peer[]) => void;

/** Told, for every announce before its answer goes out, whether it is one of its peer's first (EARLY_ANSWERS). */
export type EarlyAnswerHook = (early: boolean) => void;

/**
 * A swarm whose announce costs O(numwant), not O(swarm size): peers live in an array with an
 * index by id (swap-remove), and the peers returned are a random sample drawn by index.
 * Drop-in for the library's Swarm (its Server calls announce, scrape and peers.get).
 */
export class PeerSwarm implements SwarmLike {
  complete = 0;
  incomplete = 0;
  private readonly list: Peer[] = [];
  private readonly index = new Map<string, number>();
  readonly peers = { get: (peerId: string) => this.find(peerId) };
  /** Who sent whom bytes that failed the hash check (see peer-reports.ts). */
  readonly reports = new PeerReports();
  private binaryInfoHash: string | undefined;

  constructor(
    readonly infoHash: string,
    private readonly onOffers: OfferHook,
    private readonly onEarlyAnswer: EarlyAnswerHook = () => undefined,
  ) {}

  get size(): number {
    return this.list.length;
  }

  find(peerId: string): Peer | undefined {
    const i = this.index.get(peerId);
    return i === undefined ? undefined : this.list[i];
  }

  announce(params: AnnounceParams, cb?: (err: Error | null, response?: AnnounceResponse) => void): void {
    this.onEarlyAnswer(false);
    if (params.event === "stopped") {
      // Only a socket's own stop counts. The library's close handler announces a stop for the
      // socket's first peer id in every swarm, which may be someone else's by now: ignored,
      // the connection layer removes a closed socket's peers itself.
      if (params.socket && this.find(params.peer_id)?.socket === params.socket) this.remove(params.peer_id);
      // A peer that leaves gets no peers (and its offers go nowhere).
      cb?.(null, { complete: this.complete, incomplete: this.incomplete, peers: [] });
      return;
    } else if (this.reports.banned(params.peer_id)) {
      // Banned: it may still watch over HTTP, but it meets nobody and holds no slot.
      cb?.(null, { complete: this.complete, incomplete: this.incomplete, peers: [] });
      return;
    } else {
      const complete = params.left === 0;
      let peer = this.find(params.peer_id);
      if (peer) {
        if (complete && !peer.complete) [this.complete, this.incomplete] = [this.complete + 1, this.incomplete - 1];
        peer.complete ||= complete;
        peer.lastSeenMs = Date.now();
      } else if (params.socket?.readyState === 1 /* OPEN */) {
        // The library adds peers a tick after the message: a socket closed meanwhile stays out.
        this.index.set(params.peer_id, this.list.length);
        peer = { peerId: params.peer_id, socket: params.socket, complete, lastSeenMs: Date.now(), answers: 0 };
        this.list.push(peer);
        if (complete) this.complete++;
        else this.incomplete++;
      }
      // A relayed WebRTC answer is no announce of its own (and gets no answer).
      if (peer && !params.answer && peer.answers++ < EARLY_ANSWERS) this.onEarlyAnswer(true);
    }
    const peers = this.sample(params.numwant, params.peer_id);
    if (params.offers && peers.length > 0) {
      this.onOffers(this.infoHash, params.peer_id, params.offers, peers);
      for (const peer of peers) this.tellPlace(peer);
    }
    cb?.(null, { complete: this.complete, incomplete: this.incomplete, peers, slot: this.index.get(params.peer_id) });
  }

  /**
   * Every answer tells a peer the swarm's size and its slot, its index here (0 to size - 1,
   * dense): the HTTP seeder election orders the swarm by slot, so that exactly one peer is
   * first for each new segment. A client hears them in the answers to its own announces, once
   * an interval; the peers a newcomer's offers go to hear the new size at once, and a peer
   * moved into a leaver's slot hears its new slot at once, in the message clients read them
   * from: an announce answer with no offer and no peer id, which bittorrent-tracker's client
   * reports as an `update`.
   */
  private tellPlace(peer: Peer): void {
    if (peer.socket.readyState !== 1 /* OPEN */ || peer.socket.bufferedAmount > MAX_BUFFERED_BYTES) return;
    this.binaryInfoHash ??= Buffer.from(this.infoHash, "hex").toString("latin1");
    const { complete, incomplete } = this;
    peer.socket.send(JSON.stringify({ action: "announce", info_hash: this.binaryInfoHash, complete, incomplete, slot: this.index.get(peer.peerId) }));
  }

  scrape(_params: unknown, cb: (err: Error | null, response?: { complete: number; incomplete: number }) => void): void {
    cb(null, { complete: this.complete, incomplete: this.incomplete });
  }

  remove(peerId: string): boolean {
    const i = this.index.get(peerId);
    if (i === undefined) return false;
    const peer = this.list[i]!;
    const last = this.list.pop()!;
    this.index.delete(peerId);
    if (peer.complete) this.complete--;
    else this.incomplete--;
    if (last !== peer) {
      this.list[i] = last;
      this.index.set(last.peerId, i);
      this.tellPlace(last);
    }
    return true;
  }

  /** Records a report; a peer it bans leaves the swarm at once (its slot goes to another). */
  report(reporter: string, offender: string, reporterAddress: string): ReportOutcome {
    const outcome = this.reports.report(reporter, offender, reporterAddress);
    if (outcome === "banned") this.remove(offender);
    return outcome;
  }

  /** Removes peers that stopped announcing, and returns them. Runs on a timer, not per announce. */
  expire(olderThanMs: number): Peer[] {
    const stale = this.list.filter((p) => p.lastSeenMs < olderThanMs);
    for (const p of stale) this.remove(p.peerId);
    return stale;
  }

  /**
   * Up to `n` random peers other than `self`, skipping peers that do not read what they are
   * sent (their socket's send buffer is full): relaying to them would only pile up memory.
   * Never a peer that `self` reported or was reported by.
   */
  private sample(n: number, self: string): Peer[] {
    const size = this.list.length;
    const usable = (p: Peer) => p.peerId !== self && p.socket.bufferedAmount <= MAX_BUFFERED_BYTES && !this.reports.avoids(self, p.peerId);
    if (n <= 0 || size === 0) return [];
    if (size <= 2 * n) {
      // A random n of them: the first n in order, every time, left the pairs among the rest of a
      // small swarm never introduced (10 peers, 5 offers each: 10 of 45 pairs never met).
      const pool = this.list.filter(usable);
      for (let i = 0; i < Math.min(n, pool.length - 1); i++) {
        const j = i + Math.floor(Math.random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return pool.slice(0, n);
    }
    const picked = new Set<number>();
    // n is small (offers per announce) and the swarm larger: a bounded number of random draws.
    for (let tries = 0; picked.size < n && tries < 4 * n; tries++) {
      const i = Math.floor(Math.random() * size);
      if (usable(this.list[i]!)) picked.add(i);
    }
    return [...picked].map((i) => this.list[i]!);
  }
}
