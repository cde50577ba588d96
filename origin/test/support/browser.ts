// Debian's Chromium driven by playwright-core (no downloaded browser), loopback only, or inside
// a network namespace of its own (the load test's emulated access links).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.PEERCAST_CHROMIUM ?? "/usr/bin/chromium";

// Our own --disable-features replaces playwright's list: it must name every service to keep off.
const FEATURES_OFF = "OptimizationHints,NetworkTimeServiceQuerying,MediaRouter,HttpsUpgrades,AimEnabled,PreconnectToSearch,LensOverlay";

/** Flags that keep Chromium off the network: no background services, names resolve nowhere. */
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const resolverRules = (hosts: string[]) => `--host-resolver-rules=MAP * ~NOTFOUND , ${hosts.map((h) => `EXCLUDE ${h}`).join(" , ")}`;

/** Chromium in a network namespace: playwright starts an executable, so a script that enters it. */
function namespaceWrapper(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "peercast-chromium-"));
  const script = path.join(dir, "chromium-in-netns.sh");
  fs.writeFileSync(script, `#!/bin/sh\nexec ip netns exec "$PEERCAST_NETNS" "$PEERCAST_CHROMIUM_BIN" "$@"\n`, { mode: 0o755 });
  return script;
}
let wrapper: string | undefined;

export interface BrowserNamespace {
  netns: string;
  /** The origin pages are loaded from (plain http on a test address): treated as secure, so WebCrypto and P2P work. */
  pageOrigin: string;
}

/**
 * With `webrtc`, peers connect over 127.0.0.1: run inside a network namespace that has only
 * `lo`, and give each context the microphone permission (without one Chromium gathers no
 * candidates there at all).
 */
export function launchChromium(o: { webrtc?: boolean; ownSignals?: boolean; namespace?: BrowserNamespace } = {}): Promise<Browser> {
  const ns = o.namespace;
  const base = [...ARGS, resolverRules(ns ? ["127.0.0.1", new URL(ns.pageOrigin).hostname] : ["127.0.0.1"])];
  if (ns) base.push(`--unsafely-treat-insecure-origin-as-secure=${ns.pageOrigin}`);
  const args = o.webrtc
    ? [
        ...base,
        "--allow-loopback-in-peer-connection",
        `--disable-features=${FEATURES_OFF},WebRtcHideLocalIpsWithMdns`,
        "--force-fieldtrials=WebRTC-IPv6Default/Disabled/",
      ]
    : [...base, `--disable-features=${FEATURES_OFF}`];
  // With ownSignals the caller handles Ctrl+C (and closes the browser after its own clean-up);
  // playwright's default closes the browser and exits the process at once.
  const signals = o.ownSignals ? { handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false } : {};
  if (!ns) return chromium.launch({ executablePath: CHROMIUM, headless: true, args, ...signals });
  const env = { ...process.env, PEERCAST_NETNS: ns.netns, PEERCAST_CHROMIUM_BIN: CHROMIUM } as Record<string, string>;
  return chromium.launch({ executablePath: (wrapper ??= namespaceWrapper()), env, headless: true, args, ...signals });
}
