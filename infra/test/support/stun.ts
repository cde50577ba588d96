// STUN over UDP as a browser speaks it (RFC 5389): a Binding request, which a STUN server answers
// with the address it saw the request come from; and a TURN Allocate request (RFC 5766), which a
// server that relays answers (with a relay address, or 401 to ask for credentials) and a
// STUN-only server ignores.
import { randomBytes } from "node:crypto";
import dgram from "node:dgram";

const MAGIC = 0x2112a442;
const BINDING = 0x0001;
const ALLOCATE = 0x0003;
const XOR_MAPPED_ADDRESS = 0x0020;
const REQUESTED_TRANSPORT = 0x0019;

export interface StunAnswer {
  /** The message type: 0x0101 Binding success, 0x0103 Allocate success, 0x0113 Allocate error. */
  type: number;
  /** XOR-MAPPED-ADDRESS, as `ip:port` (IPv4). */
  mapped?: string;
}

function request(type: number, id: Buffer): Buffer {
  // Allocate asks for a UDP relay (REQUESTED-TRANSPORT 17); Binding has no attributes.
  const attrs = type === ALLOCATE ? Buffer.from([REQUESTED_TRANSPORT >> 8, REQUESTED_TRANSPORT & 0xff, 0, 4, 17, 0, 0, 0]) : Buffer.alloc(0);
  const head = Buffer.alloc(20);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(attrs.length, 2);
  head.writeUInt32BE(MAGIC, 4);
  id.copy(head, 8);
  return Buffer.concat([head, attrs]);
}

function parse(msg: Buffer, id: Buffer): StunAnswer | undefined {
  if (msg.length < 20 || msg.readUInt32BE(4) !== MAGIC || !msg.subarray(8, 20).equals(id)) return undefined;
  const answer: StunAnswer = { type: msg.readUInt16BE(0) };
  for (let at = 20; at + 4 <= msg.length;) {
    const attr = msg.readUInt16BE(at);
    const len = msg.readUInt16BE(at + 2);
    if (attr === XOR_MAPPED_ADDRESS && len >= 8 && msg[at + 5] === 0x01) {
      const port = msg.readUInt16BE(at + 6) ^ (MAGIC >>> 16);
      const ip = (msg.readUInt32BE(at + 8) ^ MAGIC) >>> 0;
      answer.mapped = `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}:${port}`;
    }
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return answer;
}

/**
 * Sends the request (resent every 500 ms, as UDP may drop it) until an answer comes or
 * `timeoutMs` passes; undefined when none came.
 */
export function stunRequest(host: string, port: number, kind: "binding" | "allocate", timeoutMs = 3000): Promise<StunAnswer | undefined> {
  const id = randomBytes(12);
  const message = request(kind === "binding" ? BINDING : ALLOCATE, id);
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) => {
    const finish = (answer: StunAnswer | undefined) => {
      clearInterval(resend);
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    socket.on("message", (msg) => {
      const answer = parse(msg, id);
      if (answer) finish(answer);
    });
    socket.on("error", (e) => {
      clearInterval(resend);
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
    const send = () => socket.send(message, port, host);
    const resend = setInterval(send, 500);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    send();
  });
}
