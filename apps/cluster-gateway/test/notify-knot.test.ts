import { Notifier } from '@mdns/ops';
import { type Knotd as Knot, startKnotd as startKnot } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// An oracle that is not ours: Knot DNS as a secondary for ZONE receives the gateway's NOTIFY
// (RFC 1996), decodes it with its own parser, logs it and acknowledges it; for a zone it
// does not serve it answers NOTAUTH. notify.test.ts checks the message with our decoder.
const ZONE = 'prod.example.tld';

describe('NOTIFY received by Knot (secondary for the zone)', () => {
  let knot: Knot;

  beforeAll(async () => {
    knot = await startKnot([
      // The primary it would refresh from after a NOTIFY; nothing listens there (discard).
      'remote:',
      '  - id: primary',
      '    address: 127.0.0.1@9',
      'acl:',
      '  - id: notify-from-gateway',
      '    address: 127.0.0.1',
      '    action: notify',
      'template:',
      '  - id: default',
      '    storage: DIR',
      'zone:',
      `  - domain: ${ZONE}`,
      '    master: primary',
      '    acl: notify-from-gateway',
    ]);
  });

  afterAll(() => knot?.stop());

  it('Knot decodes our NOTIFY for its zone and acks it; a zone it does not serve is refused', async () => {
    const n = new Notifier({
      targets: [{ address: '127.0.0.1', port: knot.port }],
      zones: [ZONE, 'other.example.tld'],
      debounceMs: 50,
      timeoutMs: 1000,
      retries: 2,
      logger: { info() {}, warn() {} },
    });
    try {
      n.changed();
      for (let i = 0; i < 250 && n.counters.acknowledged + n.counters.rejected < 2; i++) {
        await new Promise((r) => setTimeout(r, 40));
      }
      expect(n.counters).toMatchObject({ acknowledged: 1, rejected: 1, failed: 0 });
      // Knot's own reading of the message: a NOTIFY for the zone, from us.
      expect(knot.log()).toMatch(
        new RegExp(
          `\\[${ZONE.replaceAll('.', '\\.')}\\.\\] notify, incoming, remote 127\\.0\\.0\\.1@\\d+`,
        ),
      );
    } finally {
      await n.stop();
    }
  });
});
