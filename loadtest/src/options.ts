// The command line: `npm run loadtest -- --viewers 3 --peers 8 --duration 120`.
import { parseArgs } from "node:util";
import { z } from "zod";
import { NET_PROFILES, parseNetProfiles } from "./net/profiles.js";
import { PEERS_PER_HOST } from "./peers/host-pool.js";

export const SCENARIOS = ["steady", "churn", "late", "hostile", "tracker-restart", "publisher-drop", "ffmpeg-kill"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];
/** --rendition auto: ABR on (see HELP). */
export const ABR = "auto";
/** Scenarios that need the system in this process's hands (not a remote --origin). */
export const LOCAL_ONLY: readonly ScenarioName[] = ["tracker-restart", "publisher-drop", "ffmpeg-kill"];

export const HELP = `Peercast load test: real viewers (headless Chromium) and light peers (p2p-media-loader's
engine in Node) against a running system; every phase is played HTTP-only and with P2P.

  npm run loadtest -- [flags]

  --viewers N        real Chromium viewers per phase (default 2; never more than the machine's
                     measured capacity, see --find-capacity)
  --peers N          light peers per phase (default 8)
  --peers-per-host N light peers per Node process (default ${PEERS_PER_HOST}; one process runs its peers on
                     one core)
  --duration S       seconds per phase (default 120)
  --warmup S         seconds at the start of a phase left out of the figures (default 20)
  --scenario LIST    comma-separated, each played in its own phases (default steady):
                     ${SCENARIOS.join(", ")}
  --mode LIST        latency modes to play: balanced, low (default balanced)
  --rounds R         HTTP-only / P2P pairs of phases per scenario and mode (default 1)
  --transport LIST   what each round plays: http (the HTTP-only baseline), p2p (default
                     http,p2p; one alone leaves the other's column empty)
  --starts K         start-up probes (fresh Chromium pages) per phase (default 20, 0 for none)
  --rendition NAME   the rendition every viewer holds (default 360p), or ${ABR}: ABR on, Chromium
                     viewers choose with hls.js's ABR, light peers take the renditions in turn
                     (with a ladder of two or more, e.g. --ladder 360p:640x360:800,240p:426x240:400)
  --churn-every S    churn: a light peer joins or leaves every S seconds (default 10)
  --origin URL       target a running system (HTTP origin URL) instead of starting one
  --origin-metrics URL
                     with --origin (required there): the origin's /metrics (its metrics listener,
                     e.g. http://ORIGIN:8081/metrics; not on the viewers' port)
  --tracker-metrics URL
                     with --origin: the tracker's /metrics (its metrics listener, e.g.
                     http://TRACKER:8001/metrics; not on the players' port); without it the
                     report has no tracker figures
  --net LIST         viewers' access links, each played in its own phases (default lan):
                     ${NET_PROFILES.join(", ")}; lan is loopback, the others emulated per
                     viewer (own namespace, own shaped link; docs/load-test.md),
                     with a STUN server on the server side; needs root, not with --origin
  --seed N           which viewer gets which link under mix and mix-nat, and the links'
                     loss and jitter (default 1)
  --stream NAME      stream to watch (default main)
  --ladder SPEC      local system's ladder (default 360p:640x360:800)
  --out DIR          where the report goes (default loadtest/runs/<timestamp>, not committed)
  --find-capacity    measure how many playing Chromium viewers this machine sustains
  --bench            the benchmark run (npm run bench): both modes, 3 rounds, 60 s phases,
                     7 start-up probes a phase
  --no-progress      no live progress line (logs only)
  --help
`;

const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z.string().transform((s, ctx) => {
    const items = s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    if (items.length === 0) ctx.addIssue({ code: "custom", message: `empty: give one or more of ${values.join(", ")}` });
    for (const item of items) if (!values.includes(item as T)) ctx.addIssue({ code: "custom", message: `"${item}" is not one of ${values.join(", ")}` });
    return [...new Set(items)] as T[];
  });
const count = (max: number) => z.coerce.number().int().min(0).max(max);

const Schema = z
  .object({
    viewers: count(64).default(2),
    peers: count(500).default(8),
    peersPerHost: z.coerce.number().int().min(1).max(500).default(PEERS_PER_HOST),
    duration: z.coerce.number().int().min(10).max(86_400).default(120),
    warmup: z.coerce.number().int().min(0).max(3600).default(20),
    scenario: list(SCENARIOS).default(["steady"]),
    mode: list(["balanced", "low"] as const).default(["balanced"]),
    rounds: z.coerce.number().int().min(1).max(20).default(1),
    transport: list(["http", "p2p"] as const).default(["http", "p2p"]),
    starts: count(500).default(20),
    rendition: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/)
      .default("360p"),
    churnEvery: z.coerce.number().min(1).max(3600).default(10),
    net: z
      .string()
      .default("lan")
      .transform((s, ctx) => {
        try {
          return parseNetProfiles(s);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^--net: /, "") });
          return z.NEVER;
        }
      }),
    seed: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 31)
      .default(1),
    origin: z.url({ protocol: /^https?$/ }).optional(),
    originMetrics: z.url({ protocol: /^https?$/ }).optional(),
    trackerMetrics: z.url({ protocol: /^https?$/ }).optional(),
    stream: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/)
      .default("main"),
    ladder: z.string().default("360p:640x360:800"),
    out: z.string().optional(),
    findCapacity: z.boolean().default(false),
    bench: z.boolean().default(false),
    progress: z.boolean().default(true),
  })
  .superRefine((o, ctx) => {
    if (o.warmup >= o.duration) ctx.addIssue({ code: "custom", path: ["warmup"], message: "must be shorter than --duration" });
    if (o.viewers + o.peers === 0 && !o.findCapacity) ctx.addIssue({ code: "custom", path: ["viewers"], message: "no audience: set --viewers or --peers" });
    const remoteOnly = o.origin ? o.scenario.filter((s) => LOCAL_ONLY.includes(s)) : [];
    if (o.origin && !o.originMetrics && !o.findCapacity)
      ctx.addIssue({
        code: "custom",
        path: ["originMetrics"],
        message: "required with --origin: the origin's /metrics on its metrics listener (e.g. http://ORIGIN:8081/metrics)",
      });
    if (o.originMetrics && !o.origin)
      ctx.addIssue({ code: "custom", path: ["originMetrics"], message: "only with --origin (the own system's origin metrics are found by themselves)" });
    if (o.trackerMetrics && !o.origin)
      ctx.addIssue({ code: "custom", path: ["trackerMetrics"], message: "only with --origin (the own system's tracker metrics are found by themselves)" });
    if (o.origin && o.net.some((n) => n !== "lan"))
      ctx.addIssue({ code: "custom", path: ["net"], message: "emulated links need the own system (not --origin)" });
    if (remoteOnly.length) ctx.addIssue({ code: "custom", path: ["scenario"], message: `${remoteOnly.join(", ")} need the local system (not --origin)` });
    if (o.rendition === ABR && !o.origin && o.ladder.split(",").length < 2)
      ctx.addIssue({ code: "custom", path: ["rendition"], message: `${ABR} needs a --ladder of two or more renditions` });
  });

export type Options = z.infer<typeof Schema>;

/** Parses argv; throws an Error whose message says what to fix. */
export function parseOptions(argv: string[]): Options | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      viewers: { type: "string" },
      peers: { type: "string" },
      "peers-per-host": { type: "string" },
      duration: { type: "string" },
      warmup: { type: "string" },
      scenario: { type: "string" },
      mode: { type: "string" },
      rounds: { type: "string" },
      transport: { type: "string" },
      starts: { type: "string" },
      rendition: { type: "string" },
      "churn-every": { type: "string" },
      origin: { type: "string" },
      "origin-metrics": { type: "string" },
      "tracker-metrics": { type: "string" },
      net: { type: "string" },
      seed: { type: "string" },
      stream: { type: "string" },
      ladder: { type: "string" },
      out: { type: "string" },
      "find-capacity": { type: "boolean" },
      bench: { type: "boolean" },
      "no-progress": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) return "help";
  const bench = values.bench === true;
  const parsed = Schema.safeParse({
    // 3 interleaved rounds per mode, 7 start-up probes each: 21 starts per transport and mode.
    ...(bench && { mode: "balanced,low", rounds: "3", duration: "60", starts: "7" }),
    ...values,
    churnEvery: values["churn-every"],
    peersPerHost: values["peers-per-host"],
    findCapacity: values["find-capacity"],
    originMetrics: values["origin-metrics"],
    trackerMetrics: values["tracker-metrics"],
    progress: values["no-progress"] ? false : undefined,
    "churn-every": undefined,
    "peers-per-host": undefined,
    "find-capacity": undefined,
    "origin-metrics": undefined,
    "tracker-metrics": undefined,
    "no-progress": undefined,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  --${String(i.path[0] ?? "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`);
    throw new Error(`invalid flags:\n${lines.join("\n")}\n(see --help)`);
  }
  return parsed.data;
}
