import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertBuilt } from '@mdns/testkit';
import { describe, expect, it } from 'vitest';

// V8 holds each bundle's source as one string for the life of the process: one byte per
// character while it is all ASCII, two as soon as one character is not (the gateway's
// bundle: +2.3 MB of heap for a micro sign in a regular expression). tsup.app.ts asks
// esbuild for ASCII, which escapes strings and identifiers but not regular expression
// literals or kept comments; this guards what it cannot.
const bundles = ['cluster-gateway', 'fanout-authority'].map((app) => ({
  app,
  path: fileURLToPath(new URL(`../../apps/${app}/dist/main.js`, import.meta.url)),
}));

describe('the shipped bundles are ASCII only', () => {
  it.each(bundles)('$app', ({ path }) => {
    assertBuilt(path);
    const source = readFileSync(path, 'latin1');
    const offenders: string[] = [];
    for (let at = 0; at < source.length; at++) {
      if (source.charCodeAt(at) < 0x80) continue;
      offenders.push(`byte ${at}: ...${source.slice(Math.max(0, at - 40), at + 10)}...`);
      if (offenders.length === 5) break;
    }
    expect(offenders, 'write the character as a \\u escape in the source').toEqual([]);
  });
});
