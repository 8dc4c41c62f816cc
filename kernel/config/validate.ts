/** @module validate — runs a valibot schema over a parsed config and turns its issues into ConfigIssues. */
import * as v from "valibot";
import { ConfigError, configIssue, renderValue, type ConfigIssue } from "./config-error.ts";

type AnySchema = v.GenericSchema;
type AnyIssue = v.BaseIssue<unknown>;

/**
 * Validates `input` (a parsed TOML table from `file`) against `schema` and returns the parsed output.
 * Throws ConfigError listing every issue: unknown fields (with a "did you mean"), missing fields, wrong types,
 * values out of range, each with its dotted field path.
 */
export function validate<S extends AnySchema>(schema: S, input: unknown, file: string): v.InferOutput<S> {
  const result = v.safeParse(schema, input, { message: expectation, abortPipeEarly: true });
  if (result.success) return result.output;
  throw new ConfigError(result.issues.map((issue) => toConfigIssue(schema, issue, file)));
}

/** Converts one valibot issue. Schema messages are written as expectations; see schema.ts. */
function toConfigIssue(root: AnySchema, issue: AnyIssue, file: string): ConfigIssue {
  const items = issue.path ?? [];
  const path = formatPath(items.map((item) => item.key));
  const isObject = issue.type === "object" || issue.type === "strict_object" || issue.type === "loose_object";
  if (isObject && issue.expected === "never") {
    const key = String(items.at(-1)?.key);
    const known = fieldsAt(root, items.slice(0, -1), items.at(-1)?.input);
    const hint = suggest(key, known);
    const found = `unknown field ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ""}`;
    return configIssue(file, path, known.length > 0 ? `one of the known fields (${known.join(", ")})` : "no such field", found);
  }
  if (isObject && issue.input === undefined && issue.expected?.startsWith('"')) {
    return configIssue(file, path, "a value (this field is required)", "nothing (field missing)");
  }
  const found = issue.type === "raw_check" ? issue.received : renderValue(issue.input);
  return configIssue(file, path, issue.message, found);
}

/** "mounts[1].path" from ["mounts", 1, "path"]. */
function formatPath(keys: unknown[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The expectation for an issue whose schema gave no message of its own. */
function expectation(issue: AnyIssue): string {
  switch (issue.type) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "a list";
    case "object":
    case "strict_object":
    case "loose_object":
    case "variant":
      return "a table";
    case "integer":
      return "a whole number";
    case "min_value":
      return `a number ${issue.expected?.replace(">=", "≥ ") ?? ""}`.trim();
    case "max_value":
      return `a number ${issue.expected?.replace("<=", "≤ ") ?? ""}`.trim();
    case "min_length":
      return `at least ${String(issue.requirement)} entries`;
    case "literal":
    case "picklist":
      return issue.expected ?? "one of the allowed values";
    case "regex":
      return `text matching ${String(issue.requirement)}`;
    default:
      return issue.expected ?? "a valid value";
  }
}

/** The field names of the table the path leads to (for an unknown-field issue); [] when it cannot be told. */
function fieldsAt(root: AnySchema, items: readonly v.IssuePathItem[], table: unknown): string[] {
  let schema: unknown = root;
  for (const item of items) {
    schema = child(pick(schema, item.input), item.key);
    if (schema === undefined) return [];
  }
  const entries = (pick(schema, table) as { entries?: Record<string, unknown> } | undefined)?.entries;
  return entries ? Object.keys(entries) : [];
}

/** Unwraps optional/nullable wrappers and selects a variant's option by its discriminator in `input`. */
function pick(schema: unknown, input: unknown): unknown {
  let s = schema as { type?: string; wrapped?: unknown; key?: string; options?: unknown[] } | undefined;
  while (s && (s.type === "optional" || s.type === "nullable" || s.type === "nullish" || s.type === "exact_optional")) {
    s = s.wrapped as typeof s;
  }
  if (s?.type === "variant" && s.key !== undefined && s.options) {
    const tag = (input as Record<string, unknown> | null)?.[s.key];
    return s.options.find((o) => (o as { entries: Record<string, { literal?: unknown }> }).entries[s.key!]?.literal === tag);
  }
  return s;
}

function child(schema: unknown, key: unknown): unknown {
  const s = schema as { type?: string; item?: unknown; entries?: Record<string, unknown> } | undefined;
  if (s?.type === "array") return s.item;
  if (s?.entries && typeof key === "string") return s.entries[key];
  return undefined;
}

/** The known name closest to a typo (case-insensitive match or edit distance ≤ 2), if any. */
function suggest(key: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const name of known) {
    const d = name.toLowerCase() === key.toLowerCase() ? 0 : distance(key, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
