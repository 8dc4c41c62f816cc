/** @module args — a small parser for `danaus <command> [positionals] [--flag value | --switch]`. */

/** Flags that take no value. */
const SWITCHES = new Set(["json", "help", "force", "print", "legacy", "asan"]);

/** Parsed arguments. */
export interface Args {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string | true>;
  /** The words after a lone "--" (the command of `run`), never parsed as flags. */
  rest: string[];
}

/** A command-line mistake; the CLI prints it with the usage and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Splits argv (without the program) into a command, positionals and flags; `--name=value` and `--name value` both work. */
export function parseArgs(all: string[]): Args {
  const dash = all.indexOf("--");
  const argv = dash < 0 ? all : all.slice(0, dash);
  const rest = dash < 0 ? [] : all.slice(dash + 1);
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (SWITCHES.has(name)) flags.set(name, true);
    else if (inline !== undefined) flags.set(name, inline);
    else if (i + 1 < argv.length) flags.set(name, argv[++i]!);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { command: positionals.shift(), positionals, flags, rest };
}

/** The string value of `--name`, or undefined. */
export function flag(args: Args, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === "string" ? value : undefined;
}

/** The value of `--name` as a non-negative integer, or undefined; a non-number is a UsageError. */
export function intFlag(args: Args, name: string): number | undefined {
  const value = flag(args, name);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} expects a whole number, found "${value}"`);
  return Number(value);
}

/** The value of `--name`, or a UsageError saying it is required. */
export function requiredFlag(args: Args, name: string): string {
  const value = flag(args, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}
