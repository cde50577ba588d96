// A minimal UDP hole punch, run in a viewer's namespace by net.e2e.test.ts: learn our public
// address from a reflector on the server side (as STUN does), print it, read the other
// viewer's public address from stdin, then both send to each other for a while and count what
// arrives. Usage: udp-punch-agent.js BIND_ADDRESS REFLECTOR_ADDRESS REFLECTOR_PORT
import dgram from "node:dgram";
import { createInterface } from "node:readline";

const [bind, reflector, reflectorPort] = process.argv.slice(2);
const sock = dgram.createSocket("udp4");
await new Promise<void>((resolve) => sock.bind(0, bind, resolve));

let received = 0;
let learned: (addr: string) => void;
const publicAddr = new Promise<string>((resolve) => (learned = resolve));
sock.on("message", (msg) => {
  const text = msg.toString();
  if (text.startsWith("you ")) learned(text.slice(4));
  else if (text === "hello") received++;
});

// Asked again until answered: a lossy link may drop a question.
const ask = setInterval(() => sock.send("who", Number(reflectorPort), reflector), 100);
sock.send("who", Number(reflectorPort), reflector);
const mine = await publicAddr;
clearInterval(ask);
process.stdout.write(JSON.stringify({ local: `${bind}:${sock.address().port}`, public: mine }) + "\n");

const peer = await new Promise<string>((resolve) => createInterface({ input: process.stdin }).once("line", resolve));
const [host, port] = peer.trim().split(":");
const punch = setInterval(() => sock.send("hello", Number(port), host), 50);
await new Promise((resolve) => setTimeout(resolve, 1500));
clearInterval(punch);
process.stdout.write(JSON.stringify({ received }) + "\n");
sock.close();
