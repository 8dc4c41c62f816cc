/** @module log — structured JSON-lines logging with levels; every line carries the fields of its logger (tenant, service, pid). */

/** Log levels in increasing severity. */
export const LEVELS = ["debug", "info", "warn", "error"] as const;
/** A log level. */
export type Level = (typeof LEVELS)[number];

/** Fields attached to a log line. */
export type Fields = object;

/** Where log lines go (one JSON object per line). Tests may collect lines instead of printing them. */
export type Sink = (line: string) => void;

const stderrSink: Sink = (line) => process.stderr.write(line + "\n");

function levelFromEnv(): Level {
  const wanted = process.env.DANAUS_LOG_LEVEL;
  return (LEVELS as readonly string[]).includes(wanted ?? "") ? (wanted as Level) : "info";
}

/** A logger that writes one JSON object per line with `ts`, `level`, `msg` and its bound fields. */
export class Logger {
  constructor(
    private readonly fields: Fields = {},
    private readonly minLevel: Level = levelFromEnv(),
    private readonly sink: Sink = stderrSink,
  ) {}

  /** A logger that adds `fields` to every line of this one. */
  child(fields: Fields): Logger {
    return new Logger({ ...this.fields, ...fields }, this.minLevel, this.sink);
  }

  debug(msg: string, fields?: Fields): void { this.write("debug", msg, fields); }
  info(msg: string, fields?: Fields): void { this.write("info", msg, fields); }
  warn(msg: string, fields?: Fields): void { this.write("warn", msg, fields); }
  error(msg: string, fields?: Fields): void { this.write("error", msg, fields); }

  private write(level: Level, msg: string, fields?: Fields): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.minLevel)) return;
    const record = { ts: new Date().toISOString(), level, msg, ...this.fields, ...fields };
    this.sink(JSON.stringify(record, (_key, value) => (value instanceof Error ? { name: value.name, message: value.message } : value)));
  }
}

/** The process-wide root logger (pid bound). */
export const rootLogger = new Logger({ pid: process.pid });
