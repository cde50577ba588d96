// A child process holding light peers, driven over IPC by the load test: their CPU and
// memory are measured apart from the coordinator's, and a busy engine never delays its clock.
import { LIGHT_PEER_NICE, lowerPriority } from "../audience-priority.js";
import { LightPeer, type LightPeerOptions } from "./light-peer.js";
import { abandonedHttp, countAbandonedHttp } from "./runtime.js";
import type { PeerHostReply, PeerHostRequest, PeerSnapshot } from "./host-protocol.js";

// The audience's priority (see audience-priority.ts), before the engines start their threads.
lowerPriority(process.pid, LIGHT_PEER_NICE);
countAbandonedHttp();
const peers = new Map<string, LightPeer>();
/** Peers that left: their final counters still count in the run's totals. */
const departed: PeerSnapshot[] = [];
const reply = (r: PeerHostReply) => process.send?.(r);

const snapshotOf = (id: string, peer: LightPeer): PeerSnapshot => ({
  id,
  stats: peer.snapshot(),
  errors: [...peer.errors],
  left: false,
  fetchCauses: peer.fetchCauses.figures(),
});

function leave(id: string): void {
  const peer = peers.get(id);
  if (!peer) return;
  peer.stop();
  peers.delete(id);
  departed.push({ ...snapshotOf(id, peer), left: true });
}

process.on("message", (m: PeerHostRequest) => {
  switch (m.cmd) {
    case "add": {
      const peer = new LightPeer(m.options satisfies LightPeerOptions);
      peers.set(m.options.id, peer);
      peer.start().catch((err: unknown) => peer.errors.push(`start: ${String(err)}`));
      break;
    }
    case "remove":
      leave(m.id);
      break;
    case "uploads-off":
      for (const p of peers.values()) p.uploadsOff();
      break;
    case "leave-all":
      for (const id of [...peers.keys()]) leave(id);
      break;
    case "snapshot":
      reply({
        type: "snapshot",
        requestId: m.requestId,
        peers: [...departed, ...[...peers.entries()].map(([id, p]) => snapshotOf(id, p))],
        memoryBytes: process.memoryUsage().rss,
        abandonedHttpBytes: abandonedHttp.bytes,
      });
      break;
    case "stop":
      for (const p of peers.values()) p.stop();
      peers.clear();
      process.disconnect();
      setTimeout(() => process.exit(0), 200).unref();
      break;
  }
});
// The coordinator went away: nothing to report to.
process.on("disconnect", () => process.exit(0));
// Ctrl+C reaches the whole process group: the coordinator decides when peers leave (over IPC),
// so their last counters still reach the report.
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => {});
// One peer's failure must not take the others (and the run's figures) with it.
process.on("unhandledRejection", (reason) => console.error(`light-peer host: unhandled rejection: ${String(reason)}`));
