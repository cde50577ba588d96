// The documentation of a service's environment variables, from the same zod schema that parses
// them: docs/configuration.md holds each service's table between markers, and a test fails when
// the page and the schema differ (`npm run docs` rewrites the tables).
import { z } from "zod";

/** What a variable's schema says about it beyond its type: `default` for one computed at start. */
export interface EnvMeta {
  description: string;
  /** The default as users read it, where the schema has none or stores it in another form. */
  default?: string;
}

/** The metadata of each variable of an env schema (a zod object keyed by variable name). */
export function envMeta(schema: z.ZodObject): { name: string; meta: EnvMeta | undefined; schemaDefault: unknown }[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const meta = z.globalRegistry.get(field as z.ZodType) as Partial<EnvMeta> | undefined;
    const def = (field as z.ZodType)._zod.def as { type: string; defaultValue?: unknown };
    return {
      name,
      meta:
        typeof meta?.description === "string" ? { description: meta.description, ...(meta.default !== undefined ? { default: meta.default } : {}) } : undefined,
      schemaDefault: def.type === "default" ? def.defaultValue : undefined,
    };
  });
}

const shown = (v: unknown) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v));

/** A markdown table of the schema's variables; throws naming any variable without a description. */
export function envTable(schema: z.ZodObject): string {
  const vars = envMeta(schema);
  const undocumented = vars.filter((v) => !v.meta).map((v) => v.name);
  if (undocumented.length > 0) throw new Error(`no description in the schema for ${undocumented.join(", ")}`);
  const rows = vars.map(({ name, meta, schemaDefault }) => {
    const fallback = meta!.default ?? (schemaDefault === undefined ? "none" : `\`${shown(schemaDefault)}\``);
    return `| \`${name}\` | ${fallback} | ${meta!.description} |`;
  });
  return ["| variable | default | meaning |", "|---|---|---|", ...rows].join("\n");
}

/** Marks where a service's generated table sits in a page. */
export const tableMarkers = (service: string) =>
  [`<!-- ${service} variables: generated from the config schema, npm run docs -->`, `<!-- end of ${service} variables -->`] as const;

/** The page with the service's table (between its markers) replaced by `table`; throws if the markers are missing. */
export function withTable(page: string, service: string, table: string): string {
  const [start, end] = tableMarkers(service);
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the page has no ${service} table markers`);
  return `${page.slice(0, from + start.length)}\n${table}\n${page.slice(to)}`;
}
