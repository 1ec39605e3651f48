import { describe, expect, it } from 'vitest';
import { explainReport, formatReport } from '../src/explain/report.js';

describe('gateway explain report', () => {
  const claims = [
    {
      kind: 'Ingress' as const,
      object: 'shop/shop',
      claim: { name: 'shop.zone', a: ['192.0.2.20'], aaaa: [], txt: [], ttl: 60 },
      healthy: false,
      backends: [{ service: 'shop/web', state: 'down', ready: 0, total: 2, slices: 1 }],
    },
  ];

  it('a held-back sole claimant: NODATA, the backend counts and the verdict', () => {
    const r = explainReport('Shop.Zone.', 'zone', { type: 'empty' }, claims);
    expect(r.name).toBe('shop.zone');
    expect(r.answer).toEqual({ type: 'nodata' });
    expect(formatReport(r)).toBe(
      [
        'shop.zone',
        '  zone zone',
        '  answer: NODATA',
        '  Ingress shop/shop: 192.0.2.20',
        '    backend shop/web: down, 0/2 ready',
        '    held back: no ready endpoint (sources.health.require)',
        '',
      ].join('\n'),
    );
  });

  it('outside every zone: refused, no claimant', () => {
    const r = explainReport('x.other', null, null, []);
    expect(r.answer).toEqual({ type: 'refused' });
    expect(formatReport(r)).toContain('no object claims this name');
  });
});
