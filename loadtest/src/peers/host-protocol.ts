// Messages between the load test and its light-peer host process.
import type { StatsBeacon } from "@peercast/origin/wire";
import type { FetchCauseFigures } from "./fetch-causes.js";
import type { LightPeerOptions } from "./light-peer.js";

export type PeerHostRequest =
  | { cmd: "add"; options: LightPeerOptions }
  | { cmd: "remove"; id: string }
  /** Every peer stops uploading (before they leave: what is in flight then arrives). */
  | { cmd: "uploads-off" }
  /** Every peer leaves (its engine stops); counters stay for the snapshot. */
  | { cmd: "leave-all" }
  | { cmd: "snapshot"; requestId: number }
  | { cmd: "stop" };

export interface PeerSnapshot {
  id: string;
  stats: StatsBeacon;
  errors: string[];
  left: boolean;
  fetchCauses: FetchCauseFigures;
}

export type PeerHostReply = { type: "snapshot"; requestId: number; peers: PeerSnapshot[]; memoryBytes: number; abandonedHttpBytes: number };

/** Set for a host on an emulated link: its peers use the stream's STUN servers and the namespace's interface. */
export const NET_ENV = "PEERCAST_LIGHT_PEER_NET";
