// Where each member of an audience sits on the emulated network. Member slots are fixed: the
// k-th Chromium viewer, the k-th light peer and the start-up probe get the same namespace and
// link in every phase of a profile (rounds and transports compare the same links), created the
// first time they are needed. `mix` deals links by slot (profiles.ts).
import type { Browser } from "playwright-core";
import { launchChromium } from "@peercast/origin/testing";
import { launchChromiumAtLowPriority } from "../audience-priority.js";
import type { NetworkEmulator, PeerAddress } from "./emulator.js";
import type { NetCounters } from "./switch-process.js";
import { viewerAccess, type NetProfileName } from "./profiles.js";

export type SlotKind = "chromium" | "light" | "probe";

const PROBE_BASE = 1000;

/**
 * A member's number in the profile's deal (profiles.ts): the run's Chromium viewers first, then
 * its light peers, so that an audience of 10 holds exactly the mix's shares; probes far after.
 */
export function memberIndex(kind: SlotKind, k: number, viewers: number): number {
  return kind === "chromium" ? k : kind === "light" ? viewers + k : PROBE_BASE + k;
}

export class AudienceNetwork {
  private readonly slots = new Map<string, Promise<PeerAddress>>();
  /** Member slots handed out since the last resetCounters() (a phase's audience; probes aside). */
  private readonly used = new Set<string>();

  constructor(
    private readonly emulator: NetworkEmulator,
    readonly profile: Exclude<NetProfileName, "lan">,
    private readonly seed: number,
    /** http://SERVER:PORT: the origin as members reach it. */
    readonly originUrl: string,
    /** The run's Chromium viewers per phase (--viewers): light peers are numbered after them. */
    private readonly viewers: number,
  ) {}

  /** The namespace and link of a member slot, made on first use. */
  slot(kind: SlotKind, k: number): Promise<PeerAddress> {
    const index = memberIndex(kind, k, this.viewers);
    const key = String(index);
    if (kind !== "probe") this.used.add(key);
    let slot = this.slots.get(key);
    if (!slot) {
      const access = viewerAccess(this.profile, index, this.seed)!;
      slot = this.emulator.addViewer({ profile: access.profile, nat: access.nat });
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** A member slot's access link as "profile" or "profile/NAT kind", e.g. "cable/symmetric". */
  describe(kind: SlotKind, k: number): string {
    const access = viewerAccess(this.profile, memberIndex(kind, k, this.viewers), this.seed)!;
    return access.nat === "none" ? access.profile.name : `${access.profile.name}/${access.nat}`;
  }

  /** The switch's counters back to zero (a phase's start), and read (its end). */
  resetCounters(): Promise<void> {
    this.used.clear();
    return this.emulator.resetCounters();
  }

  /** The uplinks (kbit/s) of the members since the last resetCounters(): the fluid bound's capacity. */
  async uplinksKbps(): Promise<number[]> {
    return Promise.all([...this.used].map(async (key) => (await this.slots.get(key)!).profile.upMbps * 1000));
  }

  counters(): Promise<NetCounters> {
    return this.emulator.counters();
  }

  /** A Chromium of its own in the slot's namespace (a browser per viewer: one access link each). */
  async browser(kind: "chromium" | "probe", k: number, lowPriority: boolean): Promise<Browser> {
    const { netns } = await this.slot(kind, k);
    const launch = () => launchChromium({ webrtc: true, ownSignals: true, namespace: { netns, pageOrigin: new URL(this.originUrl).origin } });
    return lowPriority ? launchChromiumAtLowPriority(launch) : launch();
  }
}
