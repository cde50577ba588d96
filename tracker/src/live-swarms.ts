import type { Logger } from "pino";
import { swarmIdOf, type StreamListResponse } from "@peercast/origin/wire";
import { infoHashOf, parseMasterVariants } from "./info-hash.js";

export interface LiveSwarm {
  stream: string;
  session: string;
  /** Index of the variant in the master playlist. */
  variant: number;
}

/**
 * The info hashes (hex, as the tracker library keys swarms) of every rendition of every
 * session live on the origins, learnt by polling their APIs and master playlists. Only these
 * swarms are accepted; when a session ends its swarms go. With origins sharded by stream, a
 * tracker shard follows every origin: its streams may be on any of them.
 */
export class LiveSwarms {
  private readonly origins: OriginSwarms[];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly o: { originUrls: string[]; pollMs: number; log: Logger; onEnded: (infoHashes: string[]) => void }) {
    this.origins = o.originUrls.map((url) => new OriginSwarms(url, o.originUrls.length > 1 ? o.log.child({ origin: url }) : o.log, o.onEnded));
  }

  get(infoHashHex: string): LiveSwarm | undefined {
    for (const origin of this.origins) {
      const swarm = origin.current.get(infoHashHex);
      if (swarm) return swarm;
    }
    return undefined;
  }

  get size(): number {
    return this.origins.reduce((n, o) => n + o.current.size, 0);
  }

  /** When the origin heard from least recently last answered (ms since the epoch), 0 if never. */
  get lastSuccessMs(): number {
    return Math.min(...this.origins.map((o) => o.lastOkMs));
  }

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      // One poll at a time: a slow one finishing late must not undo a newer one.
      if (this.polling) return;
      this.polling = true;
      void this.poll().finally(() => (this.polling = false));
    }, this.o.pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async poll(): Promise<void> {
    await Promise.all(this.origins.map((o) => o.poll()));
  }
}

/** One origin's live swarms. */
class OriginSwarms {
  current = new Map<string, LiveSwarm>();
  lastOkMs = 0;
  private readonly masters = new Map<string, Map<string, LiveSwarm>>(); // by session id

  constructor(
    private readonly url: string,
    private readonly log: Logger,
    private readonly onEnded: (infoHashes: string[]) => void,
  ) {}

  async poll(): Promise<void> {
    let list: StreamListResponse;
    try {
      const res = await fetch(`${this.url}/api/streams`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      list = (await res.json()) as StreamListResponse;
    } catch (err) {
      // Keep what we know: a blip at the origin must not drop every swarm.
      this.log.warn({ err: (err as Error).message }, "origin unreachable, keeping the known swarms");
      return;
    }
    const next = new Map<string, LiveSwarm>();
    for (const s of list.streams) {
      if (!s.session || (s.state !== "live" && s.state !== "reconnecting")) continue;
      const swarms = this.masters.get(s.session.id) ?? (await this.fetchSwarms(s.name, s.session.id));
      for (const [hash, swarm] of swarms ?? []) next.set(hash, swarm);
    }
    const ended = [...this.current.keys()].filter((h) => !next.has(h));
    const liveSessions = new Set([...next.values()].map((s) => s.session));
    for (const id of this.masters.keys()) if (!liveSessions.has(id)) this.masters.delete(id);
    this.current = next;
    this.lastOkMs = Date.now();
    if (ended.length > 0) this.onEnded(ended);
  }

  /** The master playlist is frozen for a session's life: read it once per session. */
  private async fetchSwarms(stream: string, session: string): Promise<Map<string, LiveSwarm> | undefined> {
    try {
      const res = await fetch(`${this.url}/hls/${stream}/master.m3u8`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) return undefined;
      const master = await res.text();
      // The playlist must belong to the session the API named (it may have just changed).
      if (!master.includes(`${session}/`)) return undefined;
      const swarmId = swarmIdOf(stream, session);
      const swarms = new Map<string, LiveSwarm>();
      parseMasterVariants(master).forEach((v, variant) => {
        swarms.set(Buffer.from(infoHashOf(swarmId, v), "latin1").toString("hex"), { stream, session, variant });
      });
      this.masters.set(session, swarms);
      this.log.info({ stream, session, swarms: swarms.size }, "live session's swarms known");
      return swarms;
    } catch (err) {
      this.log.warn({ stream, err: (err as Error).message }, "could not read a master playlist");
      return undefined;
    }
  }
}
