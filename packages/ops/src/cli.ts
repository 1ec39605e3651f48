import type { z } from 'zod';
import { formatPath } from './config/format.js';
import { type ConfigResult, type EnvOverride, loadConfigFile } from './config/load.js';

export type CliCommand =
  | { kind: 'help' }
  | { kind: 'check'; configPath: string }
  | { kind: 'run'; configPath: string }
  | { kind: 'error'; message: string };

/** Exit codes: 0 ok, 1 runtime failure, 2 usage or config error (like most Unix tools). */
export const EXIT_USAGE = 2;

/**
 * Pure: read `--config FILE` (`--config=FILE`, `-c FILE`), `--check-config`, `--help` (`-h`).
 * Without `--config` the `defaultConfigPath` is used; with neither, it is a usage error.
 */
export function parseCliArgs(
  argv: readonly string[],
  options: { defaultConfigPath?: string } = {},
): CliCommand {
  let configPath: string | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--check-config') check = true;
    else if (arg === '--config' || arg === '-c') {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('-')) {
        return { kind: 'error', message: `${arg} needs a file path` };
      }
      configPath = value;
      i++;
    } else if (arg.startsWith('--config=')) {
      configPath = arg.slice('--config='.length);
      if (configPath === '') return { kind: 'error', message: '--config= needs a file path' };
    } else return { kind: 'error', message: `unknown argument: ${arg}` };
  }
  configPath ??= options.defaultConfigPath;
  if (configPath === undefined) return { kind: 'error', message: '--config FILE is required' };
  return { kind: check ? 'check' : 'run', configPath };
}

export interface CliContext<T> {
  config: T;
  configPath: string;
  /** Load the same file again with the same env overrides — the `load` for `watchConfig`. */
  load: () => Promise<ConfigResult<T>>;
}

export interface RunCliOptions<S extends z.ZodType> {
  /** Program name for usage text, e.g. `cluster-gateway`. */
  name: string;
  /** One line under the usage line. */
  description?: string;
  schema: S;
  /** Default `process.argv.slice(2)`. */
  argv?: readonly string[];
  /** Used when `--config` is absent. Default: none (then `--config` is required). */
  defaultConfigPath?: string;
  /** Applied on every load (listed in `--help`). Default none. */
  envOverrides?: readonly EnvOverride[];
  /** Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Start the program with a valid config. A throw/reject exits 1 with the message. */
  run: (ctx: CliContext<z.output<S>>) => Promise<void> | void;
  /** For tests. Defaults write to process.stdout/stderr and call process.exit. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  exit?: (code: number) => void;
}

export function usageText(
  name: string,
  description: string | undefined,
  defaultConfigPath: string | undefined,
  envOverrides: readonly EnvOverride[],
): string {
  const lines = [`usage: ${name} [--config FILE] [--check-config] [--help]`];
  if (description) lines.push('', description);
  lines.push(
    '',
    'options:',
    `  --config, -c FILE  YAML config file${defaultConfigPath ? ` (default ${defaultConfigPath})` : ' (required)'}`,
    '  --check-config     validate the config, print "config OK" or the errors, exit 0 or 2',
    '  --help, -h         this text',
  );
  if (envOverrides.length > 0) {
    lines.push('', 'environment (overrides the file):');
    for (const o of envOverrides) lines.push(`  ${o.env.padEnd(28)} ${formatPath(o.path)}`);
  }
  lines.push('  LOG_LEVEL                    fatal|error|warn|info|debug|trace|silent');
  return lines.join('\n') + '\n';
}

/**
 * The shared `main` of both apps: parse arguments, load and validate the config, then either
 * print help, report the check, or call `run`. Bad arguments or a bad config at start print
 * every error to stderr and exit 2 — a process that starts must start with a valid config.
 */
export async function runCli<S extends z.ZodType>(options: RunCliOptions<S>): Promise<void> {
  const out = options.stdout ?? ((t: string) => process.stdout.write(t));
  const err = options.stderr ?? ((t: string) => process.stderr.write(t));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const envOverrides = options.envOverrides ?? [];
  const help = () =>
    usageText(options.name, options.description, options.defaultConfigPath, envOverrides);

  const command = parseCliArgs(options.argv ?? process.argv.slice(2), options);
  if (command.kind === 'help') {
    out(help());
    return exit(0);
  }
  if (command.kind === 'error') {
    err(`${options.name}: ${command.message}\n${help()}`);
    return exit(EXIT_USAGE);
  }
  const configPath = command.configPath;
  const load = () =>
    loadConfigFile(configPath, options.schema, { envOverrides, env: options.env ?? process.env });
  const result = await load();
  if (!result.ok) {
    err(`${options.name}: invalid config ${configPath}:\n`);
    for (const e of result.errors) err(`  ${e}\n`);
    return exit(EXIT_USAGE);
  }
  if (command.kind === 'check') {
    out(`config OK: ${configPath}\n`);
    return exit(0);
  }
  try {
    await options.run({ config: result.config, configPath, load });
  } catch (e) {
    err(`${options.name}: ${(e as Error)?.stack ?? String(e)}\n`);
    return exit(1);
  }
}
