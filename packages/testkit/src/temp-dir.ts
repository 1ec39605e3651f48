import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempDir {
  path: string;
  /** Writes `text` (an object: as JSON, which both apps read as YAML) to `name` (may contain `/`) in the directory; its path. */
  write(name: string, text: string | object): string;
  remove(): void;
}

/** A fresh directory under the system temp dir, for configs, zone files and manifests. */
export function tempDir(prefix = 'mdns-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, typeof text === 'string' ? text : JSON.stringify(text, null, 2));
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}
