/** @module fixture — temp directories of TOML config files for the kernel/config tests, and issue assertions. */
import { afterEach, beforeEach, expect } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { ConfigError, type ConfigIssue, type HostConfig, type TenantDefaults } from "../../../kernel/config/index.ts";

/** A fresh temp directory for each test of the calling file; `dir()` returns the current one. */
export function useTempDir(): { dir: () => string; write: (name: string, text: string) => string } {
  let current = "";
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), "danaus-config-"));
  });
  afterEach(() => {
    rmSync(current, { recursive: true, force: true });
  });
  return {
    dir: () => current,
    write: (name, text) => {
      const file = join(current, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
  };
}

/** A resolved host config rooted at `dir` (state in dir/state, tenants in dir/tenants). */
export function hostAt(dir: string): HostConfig {
  return {
    file: join(dir, "host.toml"),
    instance: "default",
    stateDir: join(dir, "state"),
    tenantsDir: join(dir, "tenants"),
    controlSocket: join(dir, "state", "control.sock"),
    heartbeatMs: 250,
    hungAfterMs: 2000,
    startTimeoutMs: 15000,
  };
}

/** No host [defaults]. */
export const NO_DEFAULTS: TenantDefaults = {};

/** A minimal valid tenant file for `name`, with extra TOML lines appended (top-level keys first, then tables). */
export function tenantToml(name: string, extra = "", cpus = "[0]"): string {
  return `name = "${name}"\ncpus = ${cpus}\nbackend = { kind = "local", root = "data/${name}" }\n${extra}\n`;
}

/** Runs `fn`, expects a ConfigError, and returns its issues. */
export function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.length).toBeGreaterThan(0);
    return issues;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

/**
 * Expects exactly one issue at `path` among `issues`, and that its message names the file (base name), the path and
 * the found value (`found` is a substring of both `issue.found` and the message). Returns the issue.
 */
export function expectIssue(issues: ConfigIssue[], file: string, path: string, found: string): ConfigIssue {
  const atPath = issues.filter((i) => i.path === path);
  if (atPath.length !== 1) throw new Error(`expected one issue at "${path}", got:\n${issues.map((i) => i.message).join("\n")}`);
  const issue = atPath[0]!;
  expect(issue.file).toEndWith(basename(file));
  expect(issue.message).toContain(basename(file));
  if (path !== "") expect(issue.message).toContain(`: ${path}: `);
  expect(issue.found).toContain(found);
  expect(issue.message).toContain(found);
  expect(issue.message).toBe(`${issue.file}${issue.line ? `:${issue.line}:${issue.column}` : ""}: ${path === "" ? "" : `${path}: `}expected ${issue.expected}, found ${issue.found}`);
  expect(issue.message).not.toContain("\n");
  return issue;
}
