// Started by net.e2e.test.ts and killed with SIGKILL: an emulator whose owner never stops it.
// Usage: net-orphan-agent.js DIR
import { NetworkEmulator } from "../src/net/emulator.js";

const net = await NetworkEmulator.start({ dir: process.argv[2]! });
const viewer = await net.addViewer({ profile: "dsl", nat: "cone" });
process.stdout.write(JSON.stringify({ prefix: net.prefix, switchPid: net.switchPid, netns: viewer.netns }) + "\n");
setInterval(() => {}, 60_000);
