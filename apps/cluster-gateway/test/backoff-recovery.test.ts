import { describe, expect, it } from 'vitest';
import { sourcesConfigSchema } from '../src/sources/config.js';
import { backoffDelay } from '../src/sources/kubernetes/backoff.js';

// Found by reliability/ (API down for minutes, then back): with the old 30 s maximum the
// gateway could keep serving the pre-outage index for up to 30 s after the API returned
// (17 s measured). The longest retry wait under the defaults bounds that delay.
describe('default backoff and recovery after an API outage', () => {
  it('never waits more than 4 s between retries, however long the outage', () => {
    const { backoff } = sourcesConfigSchema.parse({}).kubernetes;
    for (let attempt = 0; attempt < 200; attempt++) {
      expect(backoffDelay(attempt, backoff, () => 1)).toBeLessThanOrEqual(4000);
    }
    // Still exponential from the start, and still jittered (not a fixed 4 s poll).
    expect(backoffDelay(0, backoff, () => 1)).toBe(500);
    expect(backoffDelay(10, backoff, () => 0)).toBe(2000);
  });
});
