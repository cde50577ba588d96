// Debian's Chromium driven by playwright-core (no downloaded browser), loopback only.
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.PEERCAST_CHROMIUM ?? "/usr/bin/chromium";

/** Flags that keep Chromium off the network: no background services, names resolve nowhere. */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-features=OptimizationHints,NetworkTimeServiceQuerying,MediaRouter,HttpsUpgrades,AimEnabled,PreconnectToSearch,LensOverlay",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
