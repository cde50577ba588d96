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
 * session live on the origin, learnt by polling its API and master playlists. Only these
 * swarms are accepted; when a session ends its swarms go.
 */
export class LiveSwarms {
  private current = new Map<string, LiveSwarm>();
  private readonly masters = new Map<string, Map<string, LiveSwarm>>(); // by session id
  private timer: NodeJS.Timeout | undefined;
  private lastOkMs = 0;
  private polling = false;

  constructor(
    private readonly o: { originUrl: string; pollMs: number; log: Logger; onEnded(infoHashes: string[]): void },
  ) {}

  get(infoHashHex: string): LiveSwarm | undefined {
    return this.current.get(infoHashHex);
  }

  get size(): number {
    return this.current.size;
  }

  /** When the origin last answered (ms since the epoch), 0 if never. */
  get lastSuccessMs(): number {
    return this.lastOkMs;
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
    let list: StreamListResponse;
    try {
      const res = await fetch(`${this.o.originUrl}/api/streams`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      list = (await res.json()) as StreamListResponse;
    } catch (err) {
      // Keep what we know: a blip at the origin must not drop every swarm.
      this.o.log.warn({ err: (err as Error).message }, "origin unreachable, keeping the known swarms");
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
    if (ended.length > 0) this.o.onEnded(ended);
  }

  /** The master playlist is frozen for a session's life: read it once per session. */
  private async fetchSwarms(stream: string, session: string): Promise<Map<string, LiveSwarm> | undefined> {
    try {
      const res = await fetch(`${this.o.originUrl}/hls/${stream}/master.m3u8`, { signal: AbortSignal.timeout(5000) });
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
      this.o.log.info({ stream, session, swarms: swarms.size }, "live session's swarms known");
      return swarms;
    } catch (err) {
      this.o.log.warn({ stream, err: (err as Error).message }, "could not read a master playlist");
      return undefined;
    }
  }
}
