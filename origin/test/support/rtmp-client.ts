// Test-only RTMP publish attempt (handshake, connect, createStream, publish): fast enough to
// try thousands of keys, where spawning ffmpeg each time would take minutes.
import net from "node:net";
import { randomBytes } from "node:crypto";

type Amf = number | string | null | { [k: string]: Amf };

function amf(v: Amf): Buffer {
  if (v === null) return Buffer.from([0x05]);
  if (typeof v === "number") {
    const b = Buffer.alloc(9);
    b[0] = 0x00;
    b.writeDoubleBE(v, 1);
    return b;
  }
  if (typeof v === "string") return Buffer.concat([Buffer.from([0x02]), u16(v.length), Buffer.from(v)]);
  const parts = Object.entries(v).flatMap(([k, val]) => [u16(k.length), Buffer.from(k), amf(val)]);
  return Buffer.concat([Buffer.from([0x03]), ...parts, Buffer.from([0, 0, 9])]);
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** An RTMP message (type 0x14 AMF0 command, 9 video) split into 128-byte chunks. */
export function message(type: number, csid: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header[0] = csid;
  header.writeUIntBE(payload.length, 4, 3);
  header[7] = type;
  header.writeUInt32LE(streamId, 8);
  const chunks: Buffer[] = [header];
  for (let i = 0; i < payload.length; i += 128) {
    if (i > 0) chunks.push(Buffer.from([0xc0 | csid]));
    chunks.push(payload.subarray(i, i + 128));
  }
  return Buffer.concat(chunks);
}

export const command = (streamId: number, ...values: Amf[]) => message(0x14, 3, streamId, Buffer.concat(values.map(amf)));

/**
 * Tries to publish `key`, then sends `video` payloads (FLV video tag bodies) as video
 * messages; resolves with whether the server closed the connection within the timeout.
 */
export function tryPublish(port: number, key: string, timeoutMs = 5000, video: Buffer[] = []): Promise<"closed" | "open"> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let sent = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve("open");
    }, timeoutMs);
    socket.on("connect", () => socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)])));
    socket.on("data", (d) => {
      received = Buffer.concat([received, d]);
      if (sent || received.length < 3073) return;
      sent = true;
      socket.write(
        Buffer.concat([
          received.subarray(1, 1537), // C2 echoes S1
          command(0, "connect", 1, { app: "live", type: "nonprivate", flashVer: "FMLE/3.0", tcUrl: `rtmp://127.0.0.1:${port}/live` }),
          command(0, "createStream", 2, null),
          command(1, "publish", 3, null, key, "live"),
          ...video.map((v) => message(9, 6, 1, v)),
        ]),
      );
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
    socket.on("timeout", () => reject(new Error("socket timeout")));
  });
}

/** A connected socket past the RTMP handshake, for tests that send their own messages. */
export function handshake(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(8), randomBytes(1528)])));
    let received = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      received = Buffer.concat([received, d]);
      if (received.length < 3073) return;
      socket.off("data", onData);
      socket.write(received.subarray(1, 1537));
      resolve(socket);
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
}

export const connectCommand = (port: number) =>
  command(0, "connect", 1, { app: "live", type: "nonprivate", flashVer: "FMLE/3.0", tcUrl: `rtmp://127.0.0.1:${port}/live` });

export const closed = (socket: net.Socket) => new Promise<void>((resolve) => socket.once("close", () => resolve()));
