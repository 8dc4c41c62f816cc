/** @module read-toml — reads one TOML config file with Bun.TOML.parse, turning I/O and syntax errors into ConfigIssues. */
import { readFileSync } from "node:fs";
import { ConfigError, configIssue } from "./config-error.ts";

/**
 * Reads and parses a TOML file. Returns its top-level table.
 * Throws ConfigError with one issue (path "") when the file is missing or unreadable, or is not valid TOML
 * (then the issue carries the 1-based line and column of the error).
 */
export function readToml(file: string): Record<string, unknown> {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError([configIssue(file, "", "a readable TOML file", describeIoError(error))]);
  }
  try {
    return Bun.TOML.parse(source) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^TOML Parse error:\s*/, "") : String(error);
    const at = locateTomlError(source);
    throw new ConfigError([configIssue(file, "", "valid TOML", `a syntax error: ${reason}`, at)]);
  }
}

/**
 * Finds where Bun.TOML.parse fails in `source` (its SyntaxError carries the caller's JS position, not the TOML one).
 * The line is the first whose prefix of the document already fails with the whole document's error; the column is
 * the shortest prefix of that line that does (else the end of the line), moved back to the start of a token the
 * error quotes ('G', "foo").
 * Returns 1-based line and column; {1, 1} when the source parses.
 */
export function locateTomlError(source: string): { line: number; column: number } {
  const target = parseError(source);
  if (target === null) return { line: 1, column: 1 };
  const lines = source.split("\n");
  let before = "";
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const last = index === lines.length - 1;
    if (parseError(before + text + (last ? "" : "\n")) !== target) {
      before += `${text}\n`;
      continue;
    }
    // Cut inside the line, an error may lose its explanation ("Unterminated string; newlines must be escaped…").
    const gist = target.split(";")[0];
    let column = text.length + 1;
    for (let count = 1; count <= text.length; count++) {
      if (parseError(before + text.slice(0, count))?.split(";")[0] === gist) {
        column = count;
        break;
      }
    }
    const token = /'([^']+)'|"([^"]+)"/.exec(target);
    const quoted = token?.[1] ?? token?.[2];
    if (quoted !== undefined) {
      const start = text.lastIndexOf(quoted, column - 1);
      if (start >= 0) column = start + 1;
    }
    return { line: index + 1, column };
  }
  return { line: lines.length, column: 1 };
}

function parseError(source: string): string | null {
  try {
    Bun.TOML.parse(source);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function describeIoError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES") return "a file that cannot be read (permission denied)";
  if (code === "EISDIR") return "a directory";
  return error instanceof Error ? error.message : String(error);
}
