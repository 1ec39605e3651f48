import { readFileSync } from 'node:fs';
import { configDocProblems } from '@mdns/testkit';
import { expect, it } from 'vitest';
import { parse } from 'yaml';
import { authorityConfigSchema } from '../src/config/schema.js';

const read = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8');

// Keeps the README's configuration reference and the schema in step: an option added to the
// schema needs its line in the README (or in the cache README it defers to), a README key
// must exist, and the reference example loads as it stands.
it('the README documents the config schema, both ways, and its example loads', () => {
  expect(
    configDocProblems(authorityConfigSchema, read('../README.md'), parse, [
      read('../src/cache/README.md'),
    ]),
  ).toEqual({
    undocumented: [],
    unknown: [],
    reference: [],
  });
});
