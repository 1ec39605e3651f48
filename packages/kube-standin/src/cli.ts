/**
 * `node dist/cli.js --port 6443 --manifests DIR` — run a stand-in as its own process.
 * Prints one JSON line `{ url, port, kubeconfigPath }` when ready; stops on SIGINT/SIGTERM.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStandin } from './server.js';
import type { KubeObject } from './store.js';

/** Every `*.json` file in `dir`: an object, an array of objects, or a `List` with `items`. */
function readManifests(dir: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const path = join(dir, file);
    let doc: any;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`kube-standin: ${path} is not valid JSON: ${(err as Error).message}`);
    }
    out.push(...(Array.isArray(doc) ? doc : Array.isArray(doc?.items) ? doc.items : [doc]));
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      manifests: { type: 'string' },
      kinds: { type: 'string' },
      versions: { type: 'string' },
      'bookmark-ms': { type: 'string', default: '1000' },
    },
  });
  const versions = Object.fromEntries(
    (values.versions ?? '')
      .split(',')
      .filter((v) => v.includes('='))
      .map((v) => v.split('=') as [string, string]),
  );
  const s = await startStandin({
    port: Number(values.port),
    host: values.host,
    kinds: values.kinds ? values.kinds.split(',') : undefined,
    versions,
    bookmarkIntervalMs: Number(values['bookmark-ms']),
    objects: values.manifests ? readManifests(values.manifests) : [],
  });
  process.stdout.write(
    `${JSON.stringify({ url: s.url, port: s.port, kubeconfigPath: s.kubeconfigPath })}\n`,
  );
  const stop = () => {
    void s.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
