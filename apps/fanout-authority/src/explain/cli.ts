import { EXIT_USAGE, loadConfigFile } from '@mdns/ops';
import { DnsClient } from '@mdns/transport';
import { buildRuntime } from '../config/runtime.js';
import { authorityConfigSchema } from '../config/schema.js';
import { explain, formatExplain, parseExplainRequest } from './explain.js';

export const EXPLAIN_USAGE = `usage: fanout-authority explain [--config FILE] [--json] NAME [TYPE]

Asks every upstream of NAME's zone for (NAME, TYPE) (default A) and prints what each one
answered, how long it took, its health, and which reply the merge picked and why. A fresh
process: no cache and no learned round-trip times (the initial timeout applies). For the
running server's view use its explain endpoint: GET /explain?name=NAME&type=TYPE.
`;

/** `fanout-authority explain ...`; resolves to the exit code. */
export async function explainCli(
  args: readonly string[],
  defaultConfigPath: string,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let configPath = defaultConfigPath;
  let json = false;
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--config' || a === '-c') {
      const v = args[++i];
      if (v === undefined) {
        err(`${a} needs a file path\n${EXPLAIN_USAGE}`);
        return EXIT_USAGE;
      }
      configPath = v;
    } else if (a.startsWith('--config=')) configPath = a.slice(9);
    else if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') {
      out(EXPLAIN_USAGE);
      return 0;
    } else if (a.startsWith('-')) {
      err(`unknown option ${a}\n${EXPLAIN_USAGE}`);
      return EXIT_USAGE;
    } else positional.push(a);
  }
  if (positional.length < 1 || positional.length > 2) {
    err(EXPLAIN_USAGE);
    return EXIT_USAGE;
  }
  const request = parseExplainRequest(positional[0], positional[1]);
  if (!request.ok) {
    err(`explain: ${request.error}\n`);
    return EXIT_USAGE;
  }
  const loaded = await loadConfigFile(configPath, authorityConfigSchema);
  if (!loaded.ok) {
    err(`explain: invalid config ${configPath}:\n${loaded.errors.map((e) => `  ${e}\n`).join('')}`);
    return EXIT_USAGE;
  }
  const client = new DnsClient({ sockets: loaded.config.upstream.sockets });
  const runtime = buildRuntime(loaded.config, Math.floor(Date.now() / 1000), client);
  const report = await explain(runtime, request.name, request.qtype, null).finally(() =>
    client.close(),
  );
  out(json ? `${JSON.stringify(report, null, 2)}\n` : formatExplain(report));
  return 0;
}
