import { createHash, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";

export const STREAM_NAME = /^[a-z0-9_-]{1,64}$/;
// RTMP stream names reach us through the RTMP library, which only accepts these characters.
const KEY = /^[A-Za-z0-9_-]{8,128}$/;

const KeysFileSchema = z.object({
  keys: z.array(
    z.object({
      key: z.string().regex(KEY, "a key is 8-128 characters of A-Z a-z 0-9 _ -"),
      stream: z.string().regex(STREAM_NAME, "a stream name is 1-64 characters of a-z 0-9 _ -"),
      label: z.string().max(200).optional(),
    }),
  ),
  // Per-stream player settings; a stream listed here is known even without a key yet.
  streams: z
    .record(
      z.string().regex(STREAM_NAME, "a stream name is 1-64 characters of a-z 0-9 _ -"),
      z.object({
        title: z.string().max(200).optional(),
        p2p: z.boolean().optional(),
        latency: z.enum(["balanced", "low"]).optional(),
        uploadKbps: z.number().int().min(0).max(1_000_000).optional(),
      }),
    )
    .optional(),
});
export type StreamSettings = NonNullable<KeysFile["streams"]>[string];
export type KeysFile = z.infer<typeof KeysFileSchema>;

/** What logs may show of a key: a short, stable fingerprint, never the key. */
export function keyFingerprint(key: string): string {
  return "key#" + createHash("sha256").update(key).digest("hex").slice(0, 8);
}

const digest = (key: string) => createHash("sha256").update(key).digest("hex");

export function generateKey(): string {
  return randomBytes(18).toString("base64url");
}

/**
 * The keys a first start writes. With the built-in test source on, it holds its stream's key, so
 * OBS gets a stream of its own beside it ("obs"): a newcomer following the printed OBS steps
 * goes live instead of being refused for a stream already live.
 */
export function firstKeys(testSource: { enabled: boolean; stream: string }): KeysFile {
  if (!testSource.enabled) return { keys: [{ key: generateKey(), stream: testSource.stream, label: "first key" }] };
  const obs = testSource.stream === "obs" ? "obs-studio" : "obs";
  return {
    keys: [
      { key: generateKey(), stream: testSource.stream, label: "test source" },
      { key: generateKey(), stream: obs, label: "OBS" },
    ],
  };
}

/** Writes a keys file atomically (tmp + rename) with owner-only permissions. */
export function writeKeysFile(file: string, content: KeysFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

interface KeyStoreEvents {
  change: [];
}

/**
 * The stream keys, reloaded from the keys file whenever it changes: adding or revoking a
 * key needs no restart. A file that fails validation is reported and the last good keys stay.
 */
export class KeyStore extends EventEmitter<KeyStoreEvents> {
  // sha256(key) -> stream: lookups never compare secrets directly.
  private byDigest = new Map<string, string>();
  private streamNames: string[] = [];
  private settings: NonNullable<KeysFile["streams"]> = {};
  private listed: { fingerprint: string; stream: string; label?: string }[] = [];
  /** The file version last read: compared on every poll (edits, atomic renames, deletion). */
  private version = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {
    super();
  }

  /** Loads the file once (throws if it is invalid) and starts watching it. */
  start(): void {
    const loaded = this.read();
    if (loaded instanceof Error) throw loaded;
    this.apply(loaded);
    this.timer = setInterval(() => {
      if (this.currentVersion() !== this.version) this.reload();
    }, 500);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The stream a key publishes, or undefined for an unknown key. */
  streamFor(key: string): string | undefined {
    return this.byDigest.get(digest(key));
  }

  /** Every configured stream name, sorted. */
  streams(): string[] {
    return this.streamNames;
  }

  /** Every key as the operator may see it: fingerprint, stream and label, never the key. */
  entries(): readonly { fingerprint: string; stream: string; label?: string }[] {
    return this.listed;
  }

  /** Adds a key for `stream` to the file; returns the new key (shown once, never stored elsewhere). */
  addKey(stream: string, label: string | undefined): string {
    const file = this.mustRead();
    const key = generateKey();
    writeKeysFile(this.file, { ...file, keys: [...file.keys, { key, stream, ...(label ? { label } : {}) }] });
    this.reload();
    return key;
  }

  /** Removes the key with this fingerprint; false if there is none. A live publisher with it is cut. */
  revokeKey(fingerprint: string): boolean {
    const file = this.mustRead();
    const keys = file.keys.filter((k) => keyFingerprint(k.key) !== fingerprint);
    if (keys.length === file.keys.length) return false;
    writeKeysFile(this.file, { ...file, keys });
    this.reload();
    return true;
  }

  private mustRead(): KeysFile {
    const file = this.read();
    if (file instanceof Error) throw file;
    return file;
  }

  /** The operator's player settings for a stream (empty when none are set). */
  streamSettings(stream: string): StreamSettings {
    return Object.hasOwn(this.settings, stream) ? this.settings[stream]! : {};
  }

  reload(): void {
    const loaded = this.read();
    if (loaded instanceof Error) {
      this.log.error({ file: this.file, err: loaded.message }, "keys file rejected, keeping the previous keys");
      return;
    }
    this.apply(loaded);
    this.log.info({ keys: this.byDigest.size, streams: this.streamNames }, "keys reloaded");
    this.emit("change");
  }

  private currentVersion(): string {
    try {
      const st = fs.statSync(this.file);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return "missing";
    }
  }

  private read(): KeysFile | Error {
    this.version = this.currentVersion();
    let raw: string;
    try {
      raw = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      return new Error(`cannot read keys file ${this.file}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return new Error(`keys file ${this.file} is not valid JSON`);
    }
    const parsed = KeysFileSchema.safeParse(json);
    if (!parsed.success) {
      // Issue paths only (e.g. keys.0.key), never the offending value: it may be a key.
      const where = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      return new Error(`keys file ${this.file} is invalid: ${where}`);
    }
    return parsed.data;
  }

  private apply(file: KeysFile): void {
    this.byDigest = new Map(file.keys.map((k) => [digest(k.key), k.stream]));
    this.settings = file.streams ?? {};
    this.listed = file.keys.map((k) => ({ fingerprint: keyFingerprint(k.key), stream: k.stream, ...(k.label ? { label: k.label } : {}) }));
    this.streamNames = [...new Set([...file.keys.map((k) => k.stream), ...Object.keys(this.settings)])].sort();
  }
}
