// What happens during a phase, by scenario: who joins when, and what breaks when.
import type { Audience } from "./audience.js";
import type { ScenarioName } from "./options.js";
import type { LocalSystem } from "./target.js";

export interface ScenarioEvent {
  /** Seconds from the phase start. */
  atSec: number;
  what: string;
  /** May return a promise: the phase waits for it. */
  run(): unknown;
}

export interface ScenarioPlan {
  /** Members present from the start. */
  initial: { viewers: number; peers: number; hostile: number };
  events: ScenarioEvent[];
}

interface PlanInput {
  scenario: ScenarioName;
  viewers: number;
  peers: number;
  durationSec: number;
  warmupSec: number;
  churnEverySec: number;
  audience: Audience;
  local: LocalSystem | undefined;
}

const TRACKER_DOWN_MS = 3000;

export function planScenario(o: PlanInput): ScenarioPlan {
  const a = o.audience;
  const steady = { viewers: o.viewers, peers: o.peers, hostile: 0 };
  // Disruptions land in the measured window, early enough to see the recovery.
  const midWindow = Math.round(o.warmupSec + (o.durationSec - o.warmupSec) * 0.35);
  const local = () => {
    if (!o.local) throw new Error(`scenario ${o.scenario} needs the local system`);
    return o.local;
  };
  switch (o.scenario) {
    case "steady":
      return { initial: steady, events: [] };
    case "hostile":
      return { initial: { ...steady, hostile: 1 }, events: [] };
    case "late": {
      // Half from the start, the rest join halfway through the measured window.
      const lateViewers = Math.floor(o.viewers / 2);
      const latePeers = Math.floor(o.peers / 2);
      const at = Math.round(o.warmupSec + (o.durationSec - o.warmupSec) / 2);
      const events: ScenarioEvent[] = [];
      for (let i = 0; i < lateViewers; i++) events.push({ atSec: at + i, what: "late viewer joins", run: () => a.addViewer() });
      for (let i = 0; i < latePeers; i++) events.push({ atSec: at + i * 0.5, what: "late light peer joins", run: () => a.addLightPeer() });
      return { initial: { viewers: o.viewers - lateViewers, peers: o.peers - latePeers, hostile: 0 }, events };
    }
    case "churn": {
      // Alternately one light peer leaves and one joins: the audience stays at N or N - 1.
      const events: ScenarioEvent[] = [];
      let leave = true;
      for (let t = o.churnEverySec; t < o.durationSec - 1; t += o.churnEverySec, leave = !leave) {
        events.push(
          leave
            ? { atSec: t, what: "a light peer leaves", run: () => a.removeLightPeer() }
            : { atSec: t, what: "a light peer joins", run: () => a.addLightPeer() },
        );
      }
      return { initial: steady, events };
    }
    case "tracker-restart":
      return {
        initial: steady,
        events: [{ atSec: midWindow, what: `tracker restarts (down ${TRACKER_DOWN_MS / 1000} s)`, run: () => local().restartTracker(TRACKER_DOWN_MS) }],
      };
    case "publisher-drop":
      return { initial: steady, events: [{ atSec: midWindow, what: "publisher drops (reconnects after 2 s)", run: () => local().dropPublisher() }] };
    case "ffmpeg-kill":
      return { initial: steady, events: [{ atSec: midWindow, what: "transcoder ffmpeg killed", run: () => local().killTranscoder() }] };
  }
}
