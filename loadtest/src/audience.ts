// Everyone watching in one phase: real Chromium viewers and light peers, joining and leaving
// as the scenario says (light peers' counters are kept after they leave).
import type { Browser } from "playwright-core";
import type { StatsBeacon } from "@peercast/origin/wire";
import { openViewer, type Viewer } from "@peercast/player/testing";
import type { AudienceNetwork } from "./net/audience-network.js";
import { ABR } from "./options.js";
import type { FetchCauseFigures } from "./peers/fetch-causes.js";
import type { Transport } from "./peers/light-peer.js";
import { PeerHostPool } from "./peers/host-pool.js";
import { startBlockCodeSampler } from "./viewers/block-code.js";

export type MemberKind = "chromium" | "light" | "hostile";

export interface MemberSample {
  id: string;
  kind: MemberKind;
  stats: StatsBeacon;
  left: boolean;
  errors: string[];
  /** Light peers only: why they fetched segments from the origin. */
  fetchCauses?: FetchCauseFigures;
  /** Emulated links: the member's access link, e.g. "cable/symmetric". */
  access?: string;
}

/** In the page: the player's playback (hls.js and its P2P engine) ends; its counters stay. */
export function stopPlayback(): void {
  (window as unknown as { peercast?: { playback?: { destroy(): void } } }).peercast?.playback?.destroy();
}

/** In the page: the player's P2P engine serves no new uploads (its public dynamic config). */
export function stopUploads(): void {
  (window as unknown as { peercast?: { playback?: { engine?: { applyDynamicConfig(c: object): void } } } }).peercast?.playback?.engine?.applyDynamicConfig({
    core: { isP2PUploadDisabled: true },
  });
}

/** Bytes in flight between peers at a phase's end, at most: a link's queue and send buffers drain within this. */
const UPLOADS_DRAIN_MS = 8000;

/** The player turns P2P off for a viewer who chose so (see the player's main.ts). */
const P2P_OFF = `try { localStorage.setItem("peercast.p2p", "off") } catch {}`;

export class Audience {
  readonly peers: PeerHostPool;
  private readonly viewers = new Map<string, Viewer>();
  private readonly lightIds = new Set<string>();
  /** Emulated links: each member's access link, by id. */
  private readonly access = new Map<string, string>();
  private readonly joinTimers: NodeJS.Timeout[] = [];
  /** Light peers waiting for their namespace (emulated links) before they start. */
  private readonly joining = new Set<Promise<void>>();
  /** Members' errors outside their own counters (a namespace that could not be made). */
  private readonly joinErrors: string[] = [];
  private next = 1;
  private lightJoined = 0;
  private chromiumJoined = 0;
  /** Emulated links: browsers launched ahead of their viewers (prepareViewers), by slot. */
  private readonly browsers = new Map<number, Promise<Browser>>();

  constructor(
    private readonly o: {
      browser: Browser | undefined;
      originUrl: string;
      stream: string;
      /** A rendition's name, or ABR: Chromium viewers choose, light peers take `renditions` in turn. */
      rendition: string;
      renditions: string[];
      transport: Transport;
      sampleMs: number;
      peersPerHost?: number;
      /** Emulated access links: every member in a namespace of its own (none: loopback). */
      net?: AudienceNetwork;
    },
  ) {
    this.peers = new PeerHostPool(o.peersPerHost);
  }

  /** Watch-page URL of a viewer holding the load test's rendition (or on ABR). */
  get watchUrl(): string {
    const page = `${this.o.originUrl}/watch/${this.o.stream}`;
    return this.o.rendition === ABR ? page : `${page}?quality=${encodeURIComponent(this.o.rendition)}`;
  }

  /** Emulated links: launches the first `n` viewers' browsers (in their namespaces) at once. */
  async prepareViewers(n: number): Promise<void> {
    const net = this.o.net;
    if (!net) return;
    for (let slot = this.chromiumJoined; slot < this.chromiumJoined + n; slot++) {
      if (!this.browsers.has(slot)) this.browsers.set(slot, net.browser("chromium", slot, true));
    }
    await Promise.all(this.browsers.values());
  }

  async addViewer(): Promise<void> {
    const id = `chromium-${this.next++}`;
    const slot = this.chromiumJoined++;
    // On emulated links each viewer has a browser of its own, in its own namespace.
    const prepared = this.browsers.get(slot);
    this.browsers.delete(slot);
    const browser = this.o.net ? await (prepared ?? this.o.net.browser("chromium", slot, true)) : this.o.browser;
    if (this.o.net) this.access.set(id, this.o.net.describe("chromium", slot));
    if (!browser) throw new Error("no browser");
    const viewer = await openViewer(browser, this.watchUrl, this.o.transport === "http" ? { initScript: P2P_OFF } : {});
    const own = this.o.net ? browser : undefined;
    this.viewers.set(id, own ? { ...viewer, close: async () => (await viewer.close().catch(() => {}), await own.close()) } : viewer);
    await startBlockCodeSampler(viewer.page, this.o.sampleMs);
  }

  addLightPeer(hostile = false): string {
    const id = `${hostile ? "hostile" : "light"}-${this.next++}`;
    if (!hostile) this.lightIds.add(id);
    const r = this.o.renditions;
    const slot = this.lightJoined++;
    const rendition = this.o.rendition === ABR ? r[slot % r.length]! : this.o.rendition;
    const options = { id, originUrl: this.o.originUrl, stream: this.o.stream, rendition, transport: this.o.transport, hostile };
    const net = this.o.net;
    if (!net) {
      this.peers.add(options);
      return id;
    }
    // A process of its own in its slot's namespace: one access link per light peer.
    this.access.set(id, net.describe("light", slot));
    const joined = net.slot("light", slot).then(
      (address) => this.peers.add(options, address.netns),
      (err: unknown) => void this.joinErrors.push(`${id}: no namespace: ${err instanceof Error ? err.message : String(err)}`),
    );
    this.joining.add(joined);
    void joined.finally(() => this.joining.delete(joined));
    return id;
  }

  /** The light peer that joined first and is still here, for churn. */
  removeLightPeer(): boolean {
    const id = this.lightIds.values().next().value;
    if (id === undefined) return false;
    this.lightIds.delete(id);
    this.peers.remove(id);
    return true;
  }

  get viewerPages(): [string, Viewer][] {
    return [...this.viewers.entries()];
  }

  /** `count` light peers join `spacingMs` apart (a crowd arrives over a moment, not at once). */
  addLightPeers(count: number, spacingMs: number): void {
    for (let i = 0; i < count; i++) this.joinTimers.push(setTimeout(() => this.addLightPeer(), i * spacingMs));
  }

  /** Every member's counters (light peers that left included) and the light-peer hosts' memory. */
  async snapshot(): Promise<{ members: MemberSample[]; lightHostRssBytes: number; abandonedHttpBytes: number }> {
    const [pages, host] = await Promise.all([
      Promise.all(this.viewerPages.map(async ([id, v]) => ({ id, kind: "chromium" as const, stats: await v.stats(), left: false, errors: [...v.errors] }))),
      this.peers.snapshot(),
    ]);
    const light = host.peers.map((p) => {
      const kind: MemberKind = p.id.startsWith("hostile") ? "hostile" : "light";
      return { ...p, kind };
    });
    const members = [...pages, ...light].map((m) => (this.access.has(m.id) ? { ...m, access: this.access.get(m.id) } : m));
    return { members, lightHostRssBytes: host.memoryBytes, abandonedHttpBytes: host.abandonedHttpBytes };
  }

  /**
   * Uploads stop first and what they sent arrives before anyone leaves: on emulated links a
   * link's queue and the send buffers hold megabytes, which a closed connection drops (counted
   * as sent, never received). Waits until nobody's upload count moves for a second.
   */
  private async drainUploads(): Promise<void> {
    this.peers.uploadsOff();
    await Promise.all(this.viewerPages.map(([, v]) => v.page.evaluate(stopUploads).catch(() => {})));
    const uploaded = async () => (await this.snapshot().catch(() => ({ members: [] }))).members.reduce((n, m) => n + m.stats.uploadedBytes, 0);
    const deadline = Date.now() + UPLOADS_DRAIN_MS;
    for (let last = await uploaded(), still = 0; still < 2 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 500));
      const now = await uploaded();
      still = now === last ? still + 1 : 0;
      last = now;
    }
  }

  /**
   * Everyone stops at once, then the counters are read: nothing moves between one member's
   * figures and another's, so bytes sent and received add up.
   */
  async close(): Promise<{ members: MemberSample[]; abandonedHttpBytes: number; lightPeerHosts: number; joinErrors: string[] }> {
    this.joinTimers.forEach((t) => clearTimeout(t));
    await Promise.all(this.joining); // a peer still getting its namespace starts, then leaves with the rest
    await this.drainUploads();
    this.peers.leaveAll();
    await Promise.all(this.viewerPages.map(([, v]) => v.page.evaluate(stopPlayback).catch(() => {})));
    await new Promise((r) => setTimeout(r, 500));
    try {
      const { members, abandonedHttpBytes } = await this.snapshot();
      return { members, abandonedHttpBytes, lightPeerHosts: this.peers.hostCount, joinErrors: this.joinErrors };
    } catch {
      return { members: [], abandonedHttpBytes: 0, lightPeerHosts: this.peers.hostCount, joinErrors: this.joinErrors };
    } finally {
      await Promise.all(this.viewerPages.map(([, v]) => v.close().catch(() => {})));
      this.viewers.clear();
      // Browsers launched for viewers that never joined (a phase cut short).
      await Promise.all([...this.browsers.values()].map(async (b) => (await b.catch(() => undefined))?.close().catch(() => {})));
      this.browsers.clear();
      await this.peers.stop();
    }
  }
}
