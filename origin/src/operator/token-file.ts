// The operator token: from PEERCAST_OPERATOR_TOKEN, or generated once into the data dir. There
// is no mode without one: a loopback bind says nothing about who is asking behind a proxy.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const MIN_TOKEN_LENGTH = 16;

export interface OperatorToken {
  token: string;
  /** Where it was read or generated; undefined when it came from the environment. */
  file: string | undefined;
  generated: boolean;
}

export function operatorToken(configured: string | undefined, dataDir: string): OperatorToken {
  if (configured !== undefined) return { token: configured, file: undefined, generated: false };
  const file = path.join(dataDir, "operator-token");
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, "utf8").trim();
    if (token.length < MIN_TOKEN_LENGTH)
      throw new Error(`${file}: the operator token there is shorter than ${MIN_TOKEN_LENGTH} characters (delete the file to get a new one)`);
    return { token, file, generated: false };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  // wx: never overwrite a token another process wrote meanwhile; 0600: the operator's only.
  try {
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return operatorToken(undefined, dataDir);
    throw err;
  }
  return { token, file, generated: true };
}
