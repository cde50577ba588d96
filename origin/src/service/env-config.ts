// Config from environment variables, shared by every Peercast service: one zod schema keyed by
// variable name, so a failure names the variable to fix, and a clear exit at start.
import type { z } from "zod";

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.output<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  throw configError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
}

export const configError = (lines: string[]) => new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);

/** Loads a service's config, or says why it cannot start and exits with status 1. */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`peercast ${service}: ${err.message}\n`);
    process.exit(1);
  }
}
