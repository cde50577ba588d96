import type { Logger } from "pino";
import type { OriginConfig } from "../config.js";
import type { KeyStore } from "../keys/key-store.js";
import type { IncomingPublish } from "../ingest/rtmp-server.js";
import type { Metrics } from "../metrics.js";
import type { StreamInfo } from "../wire/index.js";
import { LiveSession } from "./live-session.js";

/** All streams' sessions, and the publish policy: one live publisher per stream. */
export class SessionManager {
  private readonly sessions = new Map<string, LiveSession>();
  private readonly sampler: NodeJS.Timeout;
  private lastSample = new Map<string, { bytes: number; frames: number; at: number }>();

  constructor(
    private readonly config: OriginConfig,
    private readonly keys: KeyStore,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    keys.on("change", () => this.cutRevokedPublishers());
    this.sampler = setInterval(() => this.sampleIngest(), 2000);
  }

  /** The RTMP ingest's admission hook: a refusal reason, or null after taking the publish. */
  admit(publish: IncomingPublish): string | null {
    const current = this.sessions.get(publish.stream);
    if (current?.hasPublisher) return "the stream already has a live publisher";
    if (current && current.state === "reconnecting") {
      this.metrics.reconnects.inc({ stream: publish.stream });
      current.attach(publish);
      return null;
    }
    if (current) void current.destroy(); // an ended session still in retention
    const session = new LiveSession(publish.stream, {
      config: this.config,
      metrics: this.metrics,
      log: this.log,
      onGone: (s) => {
        if (this.sessions.get(s.stream) === s) this.sessions.delete(s.stream);
        this.updateLiveGauge();
      },
    });
    this.sessions.set(publish.stream, session);
    session.attach(publish);
    this.updateLiveGauge();
    return null;
  }

  /** A session that has started (its master playlist exists), in any state. */
  session(stream: string): LiveSession | undefined {
    const s = this.sessions.get(stream);
    return s?.started ? s : undefined;
  }

  /** Every configured or still-visible stream; `viewersOf` gives its current viewer count. */
  list(viewersOf: (stream: string) => number): StreamInfo[] {
    const names = new Set([...this.keys.streams(), ...this.sessions.keys()]);
    return [...names].sort().map((name) => {
      const s = this.session(name);
      const viewers = viewersOf(name);
      if (!s) return { name, state: "offline", viewers };
      return { name, state: s.state, session: s.info(), viewers };
    });
  }

  async shutdown(): Promise<void> {
    clearInterval(this.sampler);
    await Promise.all([...this.sessions.values()].map((s) => s.destroy()));
    this.sessions.clear();
  }

  private cutRevokedPublishers(): void {
    for (const s of this.sessions.values()) {
      if (s.hasPublisher && !s.publisherKeyValid) s.disconnectPublisher("stream key revoked");
    }
  }

  private updateLiveGauge(): void {
    this.metrics.streamsLive.set([...this.sessions.values()].filter((s) => s.state !== "ended").length);
  }

  private sampleIngest(): void {
    const now = Date.now();
    for (const [stream, s] of this.sessions) {
      const c = s.ingestCounters();
      const prev = this.lastSample.get(stream);
      if (!c) {
        this.metrics.ingestBitrate.set({ stream }, 0);
        this.metrics.ingestFps.set({ stream }, 0);
        this.lastSample.delete(stream);
        continue;
      }
      // A new publisher connection restarts its counters.
      const base = prev && c.bytes >= prev.bytes ? prev : undefined;
      this.metrics.ingestBytes.inc({ stream }, c.bytes - (base?.bytes ?? 0));
      if (base && prev) {
        const sec = (now - prev.at) / 1000;
        this.metrics.ingestBitrate.set({ stream }, ((c.bytes - prev.bytes) * 8) / sec);
        this.metrics.ingestFps.set({ stream }, (c.frames - prev.frames) / sec);
      }
      this.lastSample.set(stream, { ...c, at: now });
    }
    this.updateLiveGauge();
  }
}
