import { readFileSync } from 'node:fs';
import { configDocGaps, configReference } from '@mdns/testkit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gatewayConfigSchema } from '../src/config/schema.js';

// The README's configuration reference and the schema, kept in step both ways: an option
// added to the schema needs its line in the README, a README key must exist, and the
// reference example loads as it stands. The sources
// section is documented in the sources README the main README points to.
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const docs = [
  readme,
  readFileSync(new URL('../src/sources/README.md', import.meta.url), 'utf8'),
].join('\n');

describe('README configuration reference', () => {
  const gaps = configDocGaps(gatewayConfigSchema, docs, parse);

  it('documents every option of the schema', () => {
    expect(gaps.undocumented).toEqual([]);
  });

  it('shows no option the schema does not accept', () => {
    expect(gaps.unknown).toEqual([]);
  });

  it('its reference example is a valid config', () => {
    const result = gatewayConfigSchema.safeParse(configReference(readme, parse));
    expect(result.success ? [] : result.error.issues).toEqual([]);
  });
});
