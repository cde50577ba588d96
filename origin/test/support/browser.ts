// Debian's Chromium driven by playwright-core (no downloaded browser), loopback only.
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.PEERCAST_CHROMIUM ?? "/usr/bin/chromium";

// Our own --disable-features replaces playwright's list: it must name every service to keep off.
const FEATURES_OFF =
  "OptimizationHints,NetworkTimeServiceQuerying,MediaRouter,HttpsUpgrades,AimEnabled,PreconnectToSearch,LensOverlay";

/** Flags that keep Chromium off the network: no background services, names resolve nowhere. */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
];

/**
 * With `webrtc`, peers connect over 127.0.0.1: run inside a network namespace that has only
 * `lo`, and give each context the microphone permission (without one Chromium gathers no
 * candidates there at all).
 */
export function launchChromium(o: { webrtc?: boolean; ownSignals?: boolean } = {}): Promise<Browser> {
  const args = o.webrtc
    ? [...ARGS, "--allow-loopback-in-peer-connection", `--disable-features=${FEATURES_OFF},WebRtcHideLocalIpsWithMdns`, "--force-fieldtrials=WebRTC-IPv6Default/Disabled/"]
    : [...ARGS, `--disable-features=${FEATURES_OFF}`];
  // With ownSignals the caller handles Ctrl+C (and closes the browser after its own clean-up);
  // playwright's default closes the browser and exits the process at once.
  const signals = o.ownSignals ? { handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false } : {};
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args, ...signals });
}
