import { type DestinationStream, type Logger, pino } from 'pino';
import { LOG_LEVELS, type LogLevel } from './config/schemas.js';
import { workerIndex } from './workers/worker.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  /** Written into every line as `name` (e.g. `cluster-gateway`). */
  name: string;
  /** Wins over `LOG_LEVEL`. Default: env `LOG_LEVEL`, else `'info'`. */
  level?: LogLevel;
  /** Where lines go. Default: stdout, written synchronously (nothing lost at `process.exit`). */
  destination?: DestinationStream;
  /** Environment to read `LOG_LEVEL` from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/**
 * A pino logger writing one JSON object per line: `{"level":"info","time":"2025-...",
 * "name":"cluster-gateway","msg":"..."}`. Level names (not numbers) and ISO time, because the
 * reader is usually a person with `kubectl logs` or a log pipeline matching on text.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const env = options.env ?? process.env;
  const fromEnv = env.LOG_LEVEL?.trim().toLowerCase();
  const badEnv = fromEnv !== undefined && fromEnv !== '' && !isLogLevel(fromEnv);
  const level = options.level ?? (fromEnv && isLogLevel(fromEnv) ? fromEnv : 'info');
  const logger = pino(
    {
      name: options.name,
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  // In a multi-worker process every line says which worker wrote it.
  const worker = workerIndex();
  const out = worker === null ? logger : logger.child({ worker });
  if (badEnv && options.level === undefined) {
    out.warn({ LOG_LEVEL: env.LOG_LEVEL, expected: LOG_LEVELS }, 'unknown LOG_LEVEL, using info');
  }
  return out;
}
