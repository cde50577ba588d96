// TURN servers with this viewer's own short-lived credentials, when the operator runs TURN:
// asked for apart from the stream's settings (which edges cache for everyone), and again once
// half their lifetime has passed, so a new playback never starts with expired ones. A running
// playback keeps the ones it started with (the engine copies its rtcConfig): its lifetime
// (PEERCAST_TURN_TTL_SEC) should outlast a viewing session.
import type { IceServer, TurnCredentialsResponse } from "@peercast/origin/wire";

const RETRY_MS = 60_000;

export class TurnCredentials {
  private servers: IceServer[] = [];
  private freshUntilMs = 0;

  /** TURN servers to add to the stream's STUN servers (none without TURN or when the origin failed). */
  get iceServers(): IceServer[] {
    return this.servers;
  }

  async refresh(path: string | undefined): Promise<void> {
    if (path === undefined) {
      this.servers = [];
      return;
    }
    if (Date.now() < this.freshUntilMs) return;
    try {
      // Short: a start waits for this at most once a minute, and TURN is only a fallback.
      const res = await fetch(path, { cache: "no-store", signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = (await res.json()) as TurnCredentialsResponse;
      this.servers = body.iceServers;
      this.freshUntilMs = Date.now() + (body.ttlSec * 1000) / 2;
    } catch {
      // Without TURN a viewer that cannot reach a peer directly takes segments over HTTP.
      this.servers = [];
      this.freshUntilMs = Date.now() + RETRY_MS;
    }
  }
}
