/** @module config-error — ConfigIssue (one thing wrong in one field of one file) and ConfigError (a list of them). */

/** One thing wrong with a config file: which file, which field, what was expected and what was found. */
export interface ConfigIssue {
  /** The file the issue is in (as given to the loader, or resolved to an absolute path by it). */
  file: string;
  /** The dotted field path, such as "cache.size" or "mounts[1].path"; "" for the whole file. */
  path: string;
  /** What the field should hold, such as 'a size such as "512MiB"'. */
  expected: string;
  /** What it holds instead, rendered for a human ('"12QB"', "nothing (field missing)"). */
  found: string;
  /** One line: `<file>: <path>: expected <expected>, found <found>` (`<file>:<line>:<column>: …` for TOML syntax errors). */
  message: string;
  /** For TOML syntax errors: the 1-based line of the error. */
  line?: number;
  /** For TOML syntax errors: the 1-based column of the error. */
  column?: number;
}

/** Builds a ConfigIssue and its one-line message. `at` adds a line:column position (TOML syntax errors). */
export function configIssue(
  file: string,
  path: string,
  expected: string,
  found: string,
  at?: { line: number; column: number },
): ConfigIssue {
  const where = at ? `${file}:${at.line}:${at.column}` : file;
  const message = `${where}: ${path === "" ? "" : `${path}: `}expected ${expected}, found ${found}`;
  return at ? { file, path, expected, found, message, line: at.line, column: at.column } : { file, path, expected, found, message };
}

/**
 * Thrown by the loaders when a config cannot be used. `issues` lists everything found wrong (never empty);
 * the message is their one-line messages, one per line, so printing the error is enough for a user.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** Everything wrong, each naming its file and field. */
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(issues.map((i) => i.message).join("\n"));
    this.issues = issues;
  }
}

/** Renders a config value for the `found` part of an issue: strings quoted, tables inline, long values shortened. */
export function renderValue(value: unknown): string {
  const text = render(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function render(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return `[${value.map(render).join(", ")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const fields = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k} = ${render(v)}`);
    return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
  }
  // TOML dates and times arrive as Temporal-like objects; their string form is the TOML text.
  return String(value);
}
