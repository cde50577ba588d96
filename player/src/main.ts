// The watch and embed pages: follows the stream's state from the origin's API and plays
// each live session, without ever needing a reload.
import Hls from "hls.js";
import type { PlayerSettings, StreamDetailResponse, StreamSessionInfo } from "@peercast/origin/wire";
import { Playback } from "./playback.js";
import { decideP2P, type Capabilities } from "./p2p-policy.js";
import { TurnCredentials } from "./turn-credentials.js";
import { PlayerUi, type PageMode } from "./ui.js";
import { ViewerStats, startBeacons } from "./viewer-stats.js";

const OFFLINE_POLL_MS = 2000;
const LIVE_POLL_MS = 5000;
const P2P_CHOICE_KEY = "peercast.p2p";

function capabilities(): Capabilities {
  const connection = (navigator as Navigator & { connection?: { saveData?: boolean; type?: string } }).connection;
  return {
    mse: Hls.isSupported(),
    webrtc: typeof RTCPeerConnection === "function",
    subtleCrypto: isSecureContext && typeof crypto?.subtle?.digest === "function",
    saveData: connection?.saveData === true,
    cellular: connection?.type === "cellular",
  };
}

function storedP2PChoice(): boolean {
  try {
    return localStorage.getItem(P2P_CHOICE_KEY) !== "off";
  } catch {
    return true; // storage blocked (third-party iframe settings): the default
  }
}

class StreamPage {
  private readonly stats: ViewerStats;
  private readonly ui: PlayerUi;
  private playback: Playback | undefined;
  private session: StreamSessionInfo | undefined;
  private settings: PlayerSettings | undefined;
  private stopBeacons: (() => void) | undefined;
  private firstPoll = true;
  private live = false;
  private readonly canPlay: boolean;
  /** The viewer's P2P choice: from storage, then in memory (storage may be blocked). */
  private viewerAllowsP2P = storedP2PChoice();
  private readonly turn = new TurnCredentials();

  constructor(
    private readonly stream: string,
    root: HTMLElement,
    mode: PageMode,
  ) {
    this.stats = new ViewerStats(stream);
    this.ui = new PlayerUi(root, mode, this.viewerAllowsP2P, (allow) => this.onP2PChoice(allow));
    this.stats.watch(this.ui.video);
    this.canPlay = Hls.isSupported() || this.ui.video.canPlayType("application/vnd.apple.mpegurl") !== "";
    this.ui.onQualityChange((level) => {
      if (this.playback?.hls) this.playback.hls.nextLevel = level;
    });
    setInterval(() => this.ui.renderStats(this.stats), 1000);
    // Exposed for operators' debugging and for the tests that read what the page counted.
    const playback = () => this.playback;
    Object.assign(window, {
      peercast: {
        stats: this.stats,
        get playback() {
          return playback();
        },
      },
    });
  }

  async poll(): Promise<void> {
    let delay: number;
    try {
      const res = await fetch(`/api/streams/${encodeURIComponent(this.stream)}`, { cache: "no-store", signal: AbortSignal.timeout(10_000) });
      if (res.status === 404) {
        this.stop();
        this.ui.setState("not-found");
        return; // a name that does not exist will not start to exist by polling
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const detail = (await res.json()) as StreamDetailResponse;
      await this.turn.refresh(detail.player.turnCredentialsPath);
      delay = this.apply(detail);
    } catch {
      if (!this.playback) this.ui.setState("error");
      delay = OFFLINE_POLL_MS;
    }
    this.firstPoll = false;
    setTimeout(() => void this.poll(), delay);
  }

  /** Applies the stream's state; returns when to ask again. */
  private apply({ stream, player }: StreamDetailResponse): number {
    this.settings = { ...player, iceServers: [...player.iceServers, ...this.turn.iceServers] };
    this.ui.setTitle(player.title);
    this.ui.setViewers(stream.viewers);
    this.stopBeacons ??= startBeacons(this.stats, player.statsIntervalMs);
    const playable = (stream.state === "live" || stream.state === "reconnecting") && stream.session;
    this.live = stream.state === "live";
    if (!playable) {
      this.stop();
      this.ui.setState(stream.state);
      return OFFLINE_POLL_MS;
    }
    if (!this.canPlay) {
      this.ui.setState("unsupported"); // neither MSE nor native HLS: say so, never a blank player
      return LIVE_POLL_MS;
    }
    this.ui.setState(stream.state);
    if (this.session?.id !== stream.session!.id) {
      // Start-up counts from page load when live at once, else from the moment it went live.
      this.stats.requestStart(this.firstPoll ? 0 : performance.now());
      this.start(stream.session!);
    }
    return LIVE_POLL_MS;
  }

  private start(session: StreamSessionInfo): void {
    this.stop();
    const settings = this.settings!;
    const p2p = decideP2P(settings.p2p, this.viewerAllowsP2P, capabilities());
    Object.assign(this.stats, { p2p, latencyMode: settings.latency, sessionId: session.id });
    this.stats.expectFirstFrame();
    this.ui.setP2PChoiceEnabled(settings.p2p);
    this.session = session;
    this.playback = new Playback({
      video: this.ui.video,
      session,
      settings,
      p2p,
      stats: this.stats,
      onLevels: () => {
        const hls = this.playback?.hls;
        if (hls) this.ui.setLevels(hls.levels, hls.autoLevelEnabled ? -1 : hls.currentLevel);
      },
      onFatal: () => setTimeout(() => this.session === session && this.start(session), 1000),
      isLive: () => this.live,
      quality: new URLSearchParams(location.search).get("quality") ?? undefined,
    });
  }

  private stop(): void {
    this.playback?.destroy();
    this.playback = undefined;
    this.session = undefined;
    this.stats.stopped();
    this.ui.setLevels([], -1);
  }

  private onP2PChoice(allow: boolean): void {
    this.viewerAllowsP2P = allow;
    try {
      if (allow) localStorage.removeItem(P2P_CHOICE_KEY);
      else localStorage.setItem(P2P_CHOICE_KEY, "off");
    } catch {
      /* storage blocked: applied for this page only */
    }
    if (this.session) this.start(this.session);
    else this.stats.p2p = decideP2P(this.settings?.p2p ?? true, allow, capabilities());
  }
}

const root = document.getElementById("peercast");
const mode = (document.body.dataset.mode === "embed" ? "embed" : "watch") satisfies PageMode;
const stream = decodeURIComponent(location.pathname.split("/")[2] ?? "");
if (root) void new StreamPage(stream, root, mode).poll();
