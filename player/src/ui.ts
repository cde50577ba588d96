// The player's DOM: video, slates, control bar, quality menu and the P2P panel. Text from
// the network only ever goes in through textContent.
import type { StreamState } from "@peercast/origin/wire";
import { REASON_TEXT } from "./p2p-policy.js";
import type { ViewerStats } from "./viewer-stats.js";

export type PageMode = "watch" | "embed";

const TEMPLATE = `
<div class="pc-stage">
  <video class="pc-video" muted playsinline></video>
  <div class="pc-spinner" hidden aria-label="Loading"></div>
  <div class="pc-bar">
    <button class="pc-play" type="button">Pause</button>
    <button class="pc-mute" type="button">Unmute</button>
    <span class="pc-badge" hidden>LIVE</span>
    <span class="pc-viewers"></span>
    <span class="pc-spacer"></span>
    <button class="pc-p2p-button" type="button" aria-expanded="false">P2P</button>
    <select class="pc-quality" aria-label="Quality"><option value="-1">Auto</option></select>
    <button class="pc-fullscreen" type="button" aria-label="Full screen">Full screen</button>
  </div>
  <div class="pc-slate" hidden><p class="pc-slate-title"></p><p class="pc-slate-text"></p></div>
</div>
<section class="pc-p2p" aria-label="Peer-to-peer">
  <dl class="pc-figures">
    <div><dt>From peers</dt><dd class="pc-share">0 %</dd></div>
    <div><dt>Peers</dt><dd class="pc-peers">0</dd></div>
    <div><dt>Uploaded</dt><dd class="pc-uploaded">0 B</dd></div>
  </dl>
  <p class="pc-p2p-status"></p>
  <label class="pc-p2p-choice"><input type="checkbox" class="pc-p2p-allow"> Share video with other viewers (P2P)</label>
  <p class="pc-privacy">With P2P on, the viewers you exchange video with can see your IP address, as any website you visit can.</p>
</section>`;

export class PlayerUi {
  readonly video: HTMLVideoElement;
  private readonly q = <T extends Element>(sel: string) => this.root.querySelector<T>(sel)!;

  constructor(
    private readonly root: HTMLElement,
    mode: PageMode,
    viewerAllowsP2P: boolean,
    onP2PChoice: (allow: boolean) => void,
  ) {
    root.classList.add("pc-player", `pc-${mode}`);
    root.insertAdjacentHTML("beforeend", TEMPLATE);
    this.video = this.q<HTMLVideoElement>(".pc-video");
    const v = this.video;
    const mute = this.q<HTMLButtonElement>(".pc-mute");
    const play = this.q<HTMLButtonElement>(".pc-play");
    // One sound control, in the bar; it stands out while the autoplayed video is muted.
    const syncMute = () => {
      mute.textContent = v.muted ? "Unmute" : "Mute";
      mute.classList.toggle("pc-attention", v.muted);
    };
    syncMute();
    mute.addEventListener("click", () => {
      v.muted = !v.muted;
      if (!v.muted) void v.play().catch(() => {});
    });
    v.addEventListener("volumechange", syncMute);
    // A live stream resumes at the live edge: hls.js jumps ahead if the pause outlasts the buffer.
    play.addEventListener("click", () => (v.paused ? void v.play().catch(() => {}) : v.pause()));
    const syncPlay = () => (play.textContent = v.paused ? "Play" : "Pause");
    v.addEventListener("play", syncPlay);
    v.addEventListener("pause", syncPlay);
    const spinner = this.q<HTMLElement>(".pc-spinner");
    v.addEventListener("waiting", () => (spinner.hidden = false));
    for (const e of ["playing", "pause", "emptied"]) v.addEventListener(e, () => (spinner.hidden = true));
    this.q(".pc-fullscreen").addEventListener("click", () => {
      if (document.fullscreenElement) void document.exitFullscreen();
      else
        void this.q<HTMLElement>(".pc-stage")
          .requestFullscreen?.()
          .catch(() => {});
    });
    // In the embed the panel is an overlay behind the P2P button; on the watch page it is always shown.
    const panel = this.q<HTMLElement>(".pc-p2p");
    const button = this.q<HTMLButtonElement>(".pc-p2p-button");
    if (mode === "embed") panel.hidden = true;
    else button.hidden = true;
    button.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      button.setAttribute("aria-expanded", String(!panel.hidden));
    });
    const allow = this.q<HTMLInputElement>(".pc-p2p-allow");
    allow.checked = viewerAllowsP2P;
    allow.addEventListener("change", () => onP2PChoice(allow.checked));
  }

  onQualityChange(fn: (level: number) => void): void {
    const select = this.q<HTMLSelectElement>(".pc-quality");
    select.addEventListener("change", () => fn(Number(select.value)));
  }

  setLevels(levels: { height: number }[], selected: number): void {
    const select = this.q<HTMLSelectElement>(".pc-quality");
    select.replaceChildren(new Option("Auto", "-1"), ...levels.map((l, i) => new Option(`${l.height}p`, String(i))));
    select.value = String(selected);
    select.hidden = levels.length < 2;
  }

  /** With P2P off by the operator the viewer's switch has nothing to switch. */
  setP2PChoiceEnabled(enabled: boolean): void {
    this.q<HTMLInputElement>(".pc-p2p-allow").disabled = !enabled;
  }

  setTitle(title: string): void {
    document.title = title;
    const h = document.querySelector(".pc-title");
    if (h) h.textContent = title;
  }

  setViewers(n: number): void {
    this.q(".pc-viewers").textContent = n > 0 ? `${n} watching` : "";
  }

  /** Live: the video. Otherwise a slate that says what is going on. */
  setState(state: StreamState | "not-found" | "error" | "unsupported"): void {
    const slates: Partial<Record<typeof state, [string, string]>> = {
      offline: ["Offline", "This stream is not live right now. It starts here by itself when it goes live."],
      ended: ["Stream ended", "Thanks for watching. This page starts the next broadcast by itself."],
      "not-found": ["No such stream", "Check the address: there is no stream by this name."],
      error: ["Cannot reach the server", "Retrying..."],
      unsupported: ["This browser cannot play live video", "Try a recent version of Firefox, Chrome, Edge or Safari."],
    };
    const slate = slates[state];
    this.q<HTMLElement>(".pc-slate").hidden = !slate;
    this.q<HTMLElement>(".pc-badge").hidden = state !== "live" && state !== "reconnecting";
    this.q(".pc-badge").textContent = state === "reconnecting" ? "RECONNECTING" : "LIVE";
    this.root.dataset.state = state;
    if (!slate) return;
    this.q(".pc-slate-title").textContent = slate[0];
    this.q(".pc-slate-text").textContent = slate[1];
  }

  renderStats(stats: ViewerStats): void {
    this.q(".pc-share").textContent = `${Math.round(stats.share * 100)} %`;
    this.q(".pc-peers").textContent = String(stats.peers.size);
    this.q(".pc-uploaded").textContent = formatBytes(stats.uploadedBytes);
    const { download, upload, reason } = stats.p2p;
    this.q(".pc-p2p-status").textContent = reason ? REASON_TEXT[reason] : download && upload ? "Sharing video with other viewers." : "";
  }
}

function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  for (; n >= 1000 && i < units.length - 1; i++) n /= 1000;
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
