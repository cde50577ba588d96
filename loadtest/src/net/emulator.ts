// Emulated access links for the load test (`--net`): every viewer or light peer gets its own
// public address on one L2 segment, 198.51.100.0/24, served by the user-space switch
// (scripts/net-switch.py), which shapes each address's uplink and downlink. The server side
// (origin, tracker, STUN) is 198.51.100.1 in the load test's own namespace, unshaped.
//
// - A Chromium viewer: one namespace (addViewer), its address on its own TAP port.
// - A light-peer host process: one namespace with one address per peer (addPeerHost). Each
//   peer's address has its own port and its own routing table, and the local table is moved
//   below those tables, so two peers of one process reach each other through the switch (their
//   own links), never through `lo`. Every socket a peer opens must bind its `address`.
// - Behind a NAT: the peer's private address (203.0.113.x, repeating across hosts) sits on a
//   veth to a router namespace of its own, which holds the public address and masquerades
//   (cone: ports kept where possible; symmetric: --random-fully).
// Nothing routes anywhere but 198.51.100.0/24: no namespace has a way out. IPv6 is off in all.
import fs from "node:fs";
import path from "node:path";
import { deleteNamespaces, inParallel, listNamespaces, removeStaleNamespaces, sh } from "./namespaces.js";
import { checkProbe, probe, type Endpoint, type ProbeOptions, type ProbeResult, type ProbeTolerance } from "./probe.js";
import { ACCESS_PROFILES, type AccessProfile, type AccessProfileName, type NatKind } from "./profiles.js";
import { SwitchProcess, type LinkSpec, type NetCounters } from "./switch-process.js";

export const SERVER_ADDRESS = "198.51.100.1";
const PUBLIC_NET = "198.51.100.";
const FIRST_PUBLIC = 10;
const LAST_PUBLIC = 254;
const PRIVATE_NET = "203.0.113.";
const NAT_GATEWAY = "203.0.113.1";
/** A link's queue holds this much traffic at its rate before it drops (tail drop). */
export const QUEUE_MS = 250;
/** Peers' rules sit before the local table, which moves from preference 0 to LOCAL_PREF. */
const PEER_RULE_PREF = 500;
const LOCAL_PREF = 1000;
/** Set in every new namespace before any interface arrives (new interfaces take the defaults). */
const NEW_NS_SYSCTLS = [
  "net.ipv6.conf.all.disable_ipv6=1",
  "net.ipv6.conf.default.disable_ipv6=1",
  "net.ipv4.conf.all.rp_filter=0",
  "net.ipv4.conf.default.rp_filter=0",
  // Two peers of one host exchange packets whose source is an address of the same namespace.
  "net.ipv4.conf.default.accept_local=1",
  // A port answers ARP only for its own peer's address.
  "net.ipv4.conf.all.arp_ignore=1",
  "net.ipv4.conf.default.arp_ignore=1",
].join(" ");

let instances = 0;
let taps = 0;

export interface NetworkEmulatorOptions {
  /** Where net-counters.json goes (written every second and at stop). */
  dir: string;
  /** Seeds the links' loss and jitter (default 1). */
  seed?: number;
  /** Where the switch's own complaints go (default: stderr). */
  log?: (msg: string) => void;
}

export interface PeerSpec {
  profile: AccessProfileName | AccessProfile;
  nat?: NatKind;
}

/** A viewer's or light peer's side of the network. */
export interface PeerAddress extends Endpoint {
  netns: string;
  profile: AccessProfile;
}

export interface PeerHostNet {
  netns: string;
  addresses: PeerAddress[];
}

interface Host {
  netns: string;
  /** One Chromium viewer: its address is also the namespace's default (unbound sockets use it). */
  single: boolean;
  peers: number;
}

export class NetworkEmulator {
  /** The server side: the load test's own namespace. */
  readonly server: Endpoint = { netns: null, address: SERVER_ADDRESS, publicAddress: SERVER_ADDRESS, profile: null, nat: "none" };
  private readonly hosts = new Map<string, Host>();
  private readonly peers: PeerAddress[] = [];
  private nextPublic = FIRST_PUBLIC;
  private nextHost = 0;
  private nextRouter = 0;
  /** Set-up steps run one at a time: a host's namespace exists before peers join it. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopped?: Promise<NetCounters | null>;

  private constructor(
    private readonly sw: SwitchProcess,
    /** `pcast-<pid>-<instance>-`: every namespace of this emulator. */
    readonly prefix: string,
  ) {}

  /** Starts the switch and puts the server side's address (198.51.100.1) in this namespace. */
  static async start(options: NetworkEmulatorOptions): Promise<NetworkEmulator> {
    if (process.getuid?.() !== 0) throw new Error("the network emulator needs root (network namespaces, TAP devices, iptables)");
    if (!fs.existsSync("/dev/net/tun")) throw new Error("the network emulator needs /dev/net/tun (TAP devices)");
    await removeStaleNamespaces();
    fs.mkdirSync(options.dir, { recursive: true });
    const prefix = `pcast-${process.pid}-${instances++}-`;
    const sw = await SwitchProcess.start(
      path.join(options.dir, "net-counters.json"),
      options.seed ?? 1,
      prefix,
      options.log ?? ((msg) => process.stderr.write(`${msg}\n`)),
    );
    const net = new NetworkEmulator(sw, prefix);
    try {
      const tap = newTap();
      await sw.addPort(tap);
      await sh([`sysctl -qw net.ipv6.conf.${tap}.disable_ipv6=1`, `ip addr add ${SERVER_ADDRESS}/24 dev ${tap}`, `ip link set ${tap} up`].join("\n"));
    } catch (err) {
      await net.stop();
      throw err;
    }
    return net;
  }

  /** The switch's process id (for CPU figures). */
  get switchPid(): number {
    return this.sw.pid;
  }

  /** Every viewer and peer added so far. */
  get endpoints(): readonly PeerAddress[] {
    return this.peers;
  }

  /** One namespace for one Chromium viewer; processes there use its address without binding. */
  addViewer(spec: PeerSpec): Promise<PeerAddress> {
    return this.serial(async () => (await this.addPeersTo(this.newHost(true), [spec]))[0]!);
  }

  /** One namespace for one light-peer host process, one address per peer (each must bind it). */
  addPeerHost(peers: PeerSpec[]): Promise<PeerHostNet> {
    if (peers.length === 0) return Promise.reject(new Error("addPeerHost: no peers"));
    return this.serial(async () => {
      const host = this.newHost(false);
      return { netns: host.netns, addresses: await this.addPeersTo(host, peers) };
    });
  }

  /** More peers in a host made by addPeerHost (churn: a peer joins a running host process). */
  addPeers(netns: string, peers: PeerSpec[]): Promise<PeerAddress[]> {
    const host = this.hosts.get(netns);
    if (!host || host.single) return Promise.reject(new Error(`addPeers: ${netns} is not a peer host of this emulator`));
    return this.serial(() => this.addPeersTo(host, peers));
  }

  /** argv to spawn `cmd` in `netns` (null: the server side, this namespace). */
  execArgs(netns: string | null, cmd: string, args: string[] = []): string[] {
    return netns ? ["ip", "netns", "exec", netns, cmd, ...args] : [cmd, ...args];
  }

  /** The switch's counters now (after stop: its last ones). */
  async counters(): Promise<NetCounters> {
    if (this.sw.running) return this.sw.counters();
    return JSON.parse(fs.readFileSync(this.sw.countersFile, "utf8")) as NetCounters;
  }

  /** Counters back to zero (e.g. at a phase's start). */
  resetCounters(): Promise<void> {
    return this.sw.reset();
  }

  /** Round trip, loss and rate from a to b (b not behind a NAT; `server` is fine). */
  probe(a: Endpoint, b: Endpoint, options?: ProbeOptions): Promise<ProbeResult> {
    return probe(a, b, options);
  }

  /**
   * What is wrong with the emulated network: probes off their profiles, and a switch that fell
   * behind its schedule (lateness p99 above `latenessP99Ms`, default 5) or is gone.
   */
  async selfCheck(probes: ProbeResult[] = [], options: ProbeTolerance & { latenessP99Ms?: number } = {}): Promise<string[]> {
    const problems = probes.flatMap((p) => checkProbe(p, options));
    if (!this.sw.running) return [...problems, "the network switch is not running"];
    const c = await this.sw.counters();
    const limit = options.latenessP99Ms ?? 5;
    if (c.switch.latenessP99Ms > limit) {
      problems.push(
        `the network switch fell behind: frames left it ${c.switch.latenessP99Ms} ms late (p99; max ${c.switch.latenessMaxMs} ms), limit ${limit} ms`,
      );
    }
    return problems;
  }

  /** Ends the switch (its TAPs go with it) and deletes every namespace; returns the last counters. */
  stop(): Promise<NetCounters | null> {
    this.stopped ??= (async () => {
      await this.queue.catch(() => {});
      await this.sw.stop();
      // The switch deletes them at exit; this covers a switch that could not.
      await deleteNamespaces(listNamespaces().filter((n) => n.startsWith(this.prefix)));
      try {
        return JSON.parse(fs.readFileSync(this.sw.countersFile, "utf8")) as NetCounters;
      } catch {
        return null;
      }
    })();
    return this.stopped;
  }

  // ---------------------------------------------------------------------------------------------

  private serial<T>(step: () => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error("the network emulator is stopped"));
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => {});
    return run;
  }

  private newHost(single: boolean): Host {
    const host: Host = { netns: `${this.prefix}h${this.nextHost++}`, single, peers: -1 };
    this.hosts.set(host.netns, host);
    return host;
  }

  private async addPeersTo(host: Host, specs: PeerSpec[]): Promise<PeerAddress[]> {
    const fresh = host.peers < 0;
    if (fresh) host.peers = 0;
    const planned = specs.map((spec) => {
      const profile = typeof spec.profile === "string" ? ACCESS_PROFILES[spec.profile] : spec.profile;
      if (!profile) throw new Error(`unknown access profile ${JSON.stringify(spec.profile)}`);
      const nat = spec.nat ?? "none";
      if (nat !== "none" && nat !== "cone" && nat !== "symmetric") throw new Error(`unknown NAT kind ${String(nat)}`);
      if (this.nextPublic > LAST_PUBLIC) throw new Error(`no public addresses left: ${LAST_PUBLIC - FIRST_PUBLIC + 1} viewers and peers at most`);
      const k = host.peers++;
      if (nat !== "none" && k + 2 > 254) throw new Error(`${host.netns}: at most 253 peers behind NATs per host`);
      const publicAddress = PUBLIC_NET + this.nextPublic++;
      const peer: PeerAddress = { netns: host.netns, address: nat === "none" ? publicAddress : PRIVATE_NET + (k + 2), publicAddress, profile, nat };
      return { peer, k, tap: newTap(), router: nat === "none" ? null : `${this.prefix}r${this.nextRouter++}` };
    });

    // Shape the addresses before any interface comes up: no frame of theirs passes unshaped.
    for (const { peer, tap } of planned) {
      await this.sw.addPort(tap);
      await this.sw.addLink(peer.publicAddress, peer.profile.name, ...linkSpecs(peer.profile));
    }

    const here: string[] = [];
    const newNs = (ns: string) => here.push(`ip netns add ${ns}`, `ip netns exec ${ns} sysctl -qw ${NEW_NS_SYSCTLS}`);
    if (fresh) newNs(host.netns);
    for (const { k, tap, router } of planned) {
      if (!router) {
        here.push(`ip link set ${tap} netns ${host.netns}`);
        continue;
      }
      newNs(router);
      here.push(`ip link set ${tap} netns ${router}`, `ip -n ${host.netns} link add n${k} type veth peer name lan netns ${router}`);
    }
    await sh(here.join("\n"));

    const inHost: string[] = [];
    if (fresh) inHost.push("ip link set lo up", `ip rule add pref ${LOCAL_PREF} lookup local`, "ip rule del pref 0 lookup local");
    for (const { peer, k, tap, router } of planned) {
      const table = 100 + k;
      const dev = router ? `n${k}` : tap;
      inHost.push(
        `sysctl -qw net.ipv4.conf.${dev}.rp_filter=0 net.ipv4.conf.${dev}.accept_local=1 net.ipv4.conf.${dev}.arp_ignore=1`,
        `ip addr add ${peer.address}/32 dev ${dev}`,
        `ip link set ${dev} up`,
      );
      // The peer's own table: everything it sends leaves by its own port (or its own router).
      const route = router ? `default via ${NAT_GATEWAY} dev ${dev} onlink src ${peer.address}` : `${PUBLIC_NET}0/24 dev ${dev} src ${peer.address}`;
      inHost.push(`ip route add ${route} table ${table}`, `ip rule add pref ${PEER_RULE_PREF} from ${peer.address} iif lo lookup ${table}`);
      if (host.single) inHost.push(`ip route add ${route}`);
    }
    const routerSteps = planned
      .filter((p) => p.router)
      .map(
        ({ peer, tap, router }) =>
          () =>
            sh(
              [
                'command -v iptables >/dev/null || { echo "iptables is missing (Debian package iptables)" >&2; exit 1; }',
                "ip link set lo up",
                "sysctl -qw net.ipv4.ip_forward=1",
                `ip addr add ${NAT_GATEWAY}/24 dev lan`,
                "ip link set lan up",
                `ip addr add ${peer.publicAddress}/24 dev ${tap}`,
                `ip link set ${tap} up`,
                `iptables -t nat -A POSTROUTING -o ${tap} -j MASQUERADE${peer.nat === "symmetric" ? " --random-fully" : ""}`,
                // Nothing from outside is for the router itself, as on a home router's WAN side.
                // Accepted, a packet no mapping expects would become a connection to the router
                // and hold the port that the peer behind it must keep for hole punching.
                `iptables -A INPUT -i ${tap} -j DROP`,
              ].join("\n"),
              router!,
            ),
      );
    await Promise.all([sh(inHost.join("\n"), host.netns), inParallel(routerSteps)]);
    const peers = planned.map((p) => p.peer);
    this.peers.push(...peers);
    return peers;
  }
}

/** TAP names: unique in this namespace, where the switch creates them (15 characters at most). */
function newTap(): string {
  return `pc${process.pid}t${taps++}`;
}

export function linkSpecs(p: AccessProfile, queueMs = QUEUE_MS): [up: LinkSpec, down: LinkSpec] {
  const spec = (mbps: number): LinkSpec => ({ rateKbps: mbps * 1000, delayMs: p.delayMs, jitterMs: p.jitterMs, lossPct: p.lossPct, queueMs });
  return [spec(p.upMbps), spec(p.downMbps)];
}
