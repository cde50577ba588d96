// Each run proves its links before it measures anything: for every access profile a run uses,
// a probe between two viewers' sides (viewer to viewer: both links) and from a viewer to the
// server side, compared with what the profile says (probe.ts), into the report.
import type { NetworkEmulator } from "./emulator.js";
import { checkProbe, type ProbeResult } from "./probe.js";
import { ACCESS_PROFILES, MIX_SHARES, type AccessProfileName, type NetProfileName } from "./profiles.js";

export interface LinkProbe {
  profile: AccessProfileName;
  path: "viewer-viewer" | "viewer-server";
  result: ProbeResult;
  /** What is off the profile; empty when the link is what it says. */
  problems: string[];
}

/** The access profiles a `--net` value deals out. */
export function accessProfilesOf(net: NetProfileName): AccessProfileName[] {
  if (net === "lan") return [];
  if (net === "mix" || net === "mix-nat") return MIX_SHARES.map(([name]) => name);
  return [net];
}

/** Probes every access profile of `nets` once (namespaces of their own, not behind NATs). */
export async function probeLinks(emulator: NetworkEmulator, nets: NetProfileName[]): Promise<LinkProbe[]> {
  const profiles = [...new Set(nets.flatMap(accessProfilesOf))];
  const out: LinkProbe[] = [];
  for (const name of profiles) {
    const profile = ACCESS_PROFILES[name];
    const [a, b] = [await emulator.addViewer({ profile, nat: "none" }), await emulator.addViewer({ profile, nat: "none" })];
    for (const [path, to] of [
      ["viewer-viewer", b],
      ["viewer-server", emulator.server],
    ] as const) {
      const result = await emulator.probe(a, to);
      out.push({ profile: name, path, result, problems: checkProbe(result) });
    }
  }
  // The probes' own bursts are not the phases' traffic.
  await emulator.resetCounters();
  return out;
}
