import { readFile } from 'node:fs/promises';
import { EXIT_USAGE } from '../cli.js';
import { type CorefileConversion, renderConversion } from './convert.js';
import { type CorefileServerBlock, parseCorefile } from './parse.js';

export interface ConvertCorefileOptions {
  /** `--zone NAME`: the zone to use where the Corefile serves the root `.`. */
  zone?: string;
}

export interface ConvertCorefileCli {
  /** Program name, e.g. `cluster-gateway`. */
  name: string;
  /** The plugin converted, e.g. `k8s_gateway`, named in the usage text. */
  plugin: string;
  /** Whether `--zone` applies (the authority: `fanout .` serves the root). */
  acceptsZone: boolean;
  convert: (
    blocks: readonly CorefileServerBlock[],
    options: ConvertCorefileOptions,
  ) => Promise<{ ok: true; conversion: CorefileConversion } | { ok: false; error: string }>;
  out?: (s: string) => void;
  err?: (s: string) => void;
}

/**
 * `NAME convert-corefile [--zone NAME] FILE`: read a CoreDNS Corefile and print the YAML
 * config; resolves to the exit code (2 for a usage error or a Corefile it cannot convert).
 */
export async function convertCorefileCli(
  args: readonly string[],
  cli: ConvertCorefileCli,
): Promise<number> {
  const out = cli.out ?? ((s: string) => process.stdout.write(s));
  const err = cli.err ?? ((s: string) => process.stderr.write(s));
  const usage = `usage: ${cli.name} convert-corefile${cli.acceptsZone ? ' [--zone NAME]' : ''} FILE

Reads a CoreDNS Corefile and prints the equivalent ${cli.name} YAML config for its
${cli.plugin} block (and cache, prometheus, health, ready, log, errors), with a # comment
for every option that has no equivalent.${cli.acceptsZone ? '\n--zone NAME: the zone to serve where the Corefile serves the root ".".' : ''}
`;
  const options: ConvertCorefileOptions = {};
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--help' || a === '-h') {
      out(usage);
      return 0;
    }
    if (cli.acceptsZone && a === '--zone') {
      const value = args[++i];
      if (value === undefined) {
        err(`--zone needs a zone name\n${usage}`);
        return EXIT_USAGE;
      }
      options.zone = value;
    } else if (a.startsWith('-')) {
      err(`unknown option ${a}\n${usage}`);
      return EXIT_USAGE;
    } else files.push(a);
  }
  if (files.length !== 1) {
    err(usage);
    return EXIT_USAGE;
  }
  const file = files[0];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    err(`${cli.name} convert-corefile: cannot read ${file}: ${(e as Error).message}\n`);
    return EXIT_USAGE;
  }
  const parsed = parseCorefile(text);
  if (!parsed.ok) {
    err(`${cli.name} convert-corefile: ${file}: ${parsed.error}\n`);
    return EXIT_USAGE;
  }
  const converted = await cli.convert(parsed.blocks, options);
  if (!converted.ok) {
    err(`${cli.name} convert-corefile: ${file}: ${converted.error}\n`);
    return EXIT_USAGE;
  }
  out(
    renderConversion(converted.conversion, [
      `${cli.name} config converted from the Corefile ${file}`,
      `check it with: ${cli.name} --check-config --config THIS_FILE`,
    ]),
  );
  return 0;
}
