// Light peers spread over several host processes: one Node process runs its peers' engines on
// one thread, and about 50 of them fill it (100 in one process measured the process, not the
// swarm). A peer joins the host with the fewest peers; a new host starts when all are full.
import type { LightPeerOptions } from "./light-peer.js";
import type { PeerSnapshot } from "./host-protocol.js";
import { PeerHost } from "./peer-host.js";

/** About a third of a core per process on this machine (light-peers.md: 20 peers at ~25 % of a core). */
export const PEERS_PER_HOST = 25;

export interface PoolSnapshot {
  peers: PeerSnapshot[];
  /** All hosts' resident memory together. */
  memoryBytes: number;
  abandonedHttpBytes: number;
}

interface Slot {
  host: PeerHost;
  ids: Set<string>;
  /** A host in a namespace of its own holds one peer. */
  netns?: string;
}

export class PeerHostPool {
  private readonly hosts: Slot[] = [];
  /** The slot each peer runs in. */
  private readonly owner = new Map<string, Slot>();

  constructor(private readonly peersPerHost = PEERS_PER_HOST) {
    if (!Number.isInteger(peersPerHost) || peersPerHost < 1) throw new Error(`peers per host must be a positive integer, not ${peersPerHost}`);
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  /** With `netns` (emulated links), the peer gets a process of its own in that namespace. */
  add(options: LightPeerOptions, netns?: string): void {
    let slot = netns
      ? undefined
      : this.hosts.filter((h) => !h.netns).reduce<Slot | undefined>((best, h) => (!best || h.ids.size < best.ids.size ? h : best), undefined);
    if (netns) this.hosts.push((slot = { host: new PeerHost(netns), ids: new Set(), netns }));
    else if (!slot || slot.ids.size >= this.peersPerHost) this.hosts.push((slot = { host: new PeerHost(), ids: new Set() }));
    slot.ids.add(options.id);
    this.owner.set(options.id, slot);
    slot.host.add(options);
  }

  remove(id: string): void {
    const slot = this.owner.get(id);
    if (!slot) return;
    this.owner.delete(id);
    slot.ids.delete(id);
    slot.host.remove(id);
  }

  uploadsOff(): void {
    for (const { host } of this.hosts) host.uploadsOff();
  }

  leaveAll(): void {
    for (const { host } of this.hosts) host.leaveAll();
  }

  /** Every host's peers (those that left included); rejects if any host does not answer. */
  async snapshot(): Promise<PoolSnapshot> {
    const parts = await Promise.all(this.hosts.map(({ host }) => host.snapshot()));
    return {
      peers: parts.flatMap((p) => p.peers),
      memoryBytes: parts.reduce((n, p) => n + p.memoryBytes, 0),
      abandonedHttpBytes: parts.reduce((n, p) => n + p.abandonedHttpBytes, 0),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.hosts.map(({ host }) => host.stop()));
  }
}
