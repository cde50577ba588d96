import { z } from "zod";

// The WebTorrent tracker protocol as p2p-media-loader's client speaks it. Ids are 20-character
// binary strings; everything else a client may send is optional and bounded.
const BinaryId = z.string().length(20);
const MAX_SDP = 16 * 1024;
const counter = z.number().nonnegative().finite().optional();

const Announce = z
  .object({
    action: z.literal("announce"),
    info_hash: BinaryId,
    peer_id: BinaryId,
    event: z.enum(["started", "stopped", "completed", "update", "paused"]).optional(),
    numwant: z.number().int().min(0).max(200).optional(),
    uploaded: counter,
    downloaded: counter,
    // Infinity (unknown) travels as null in JSON; the library would read null as 0 (a seeder).
    left: z
      .number()
      .nonnegative()
      .nullable()
      .optional()
      .transform((v) => v ?? undefined),
    offers: z.array(z.object({ offer: z.object({ type: z.literal("offer"), sdp: z.string().max(MAX_SDP) }), offer_id: BinaryId })).optional(),
    answer: z.object({ type: z.literal("answer"), sdp: z.string().max(MAX_SDP) }).optional(),
    offer_id: BinaryId.optional(),
    to_peer_id: BinaryId.optional(),
  })
  .refine((m) => !m.answer || (m.offer_id && m.to_peer_id), { message: "an answer needs offer_id and to_peer_id" })
  .refine((m) => !(m.answer && m.offers), { message: "an answer cannot carry offers" })
  .refine((m) => !(m.offers && (m.event === "stopped" || m.event === "completed")), {
    message: "offers only come with a started or update announce",
  });

export type AnnounceMessage = z.infer<typeof Announce>;

/**
 * Peercast's own action: the reporter (`peer_id`, a peer of this connection in that swarm) got
 * bytes from `offender` that failed the hash check. Not answered when accepted (WebTorrent
 * clients take a message with an unknown action for a broken socket).
 */
const Reject = z
  .object({
    action: z.literal("peercast_reject"),
    info_hash: BinaryId,
    peer_id: BinaryId,
    offender: BinaryId,
  })
  .refine((m) => m.offender !== m.peer_id, { message: "a peer cannot report itself" });

export type RejectMessage = z.infer<typeof Reject>;

/**
 * Peercast's own action: the reporter could not connect to `other` (introduced by this tracker;
 * no connection came of it). Not answered when accepted.
 */
const Unreachable = z
  .object({
    action: z.literal("peercast_unreachable"),
    info_hash: BinaryId,
    peer_id: BinaryId,
    other: BinaryId,
  })
  .refine((m) => m.other !== m.peer_id, { message: "a peer cannot report itself" });

export type UnreachableMessage = z.infer<typeof Unreachable>;

export type Parsed = { ok: true; message: AnnounceMessage | RejectMessage | UnreachableMessage } | { ok: false; reason: string };

const PEERCAST_ACTIONS: Record<string, z.ZodTypeAny> = { peercast_reject: Reject, peercast_unreachable: Unreachable };

/** Parses one text frame; never throws. */
export function parseMessage(text: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (typeof json === "object" && json !== null && (json as { action?: unknown }).action === "scrape") {
    return { ok: false, reason: "scrape is not offered" };
  }
  const action = typeof json === "object" && json !== null ? (json as { action?: unknown }).action : undefined;
  const parsed = ((typeof action === "string" && Object.hasOwn(PEERCAST_ACTIONS, action) ? PEERCAST_ACTIONS[action] : undefined) ?? Announce).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `invalid message: ${issue.path.join(".") || "(root)"}: ${issue.message}` };
  }
  return { ok: true, message: parsed.data as AnnounceMessage | RejectMessage | UnreachableMessage };
}

export const toHex = (binary: string) => Buffer.from(binary, "latin1").toString("hex");
