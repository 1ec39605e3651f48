import { negativeSoa, type RuleZone, type ZoneApex } from '../../src/index.js';

/**
 * A test zone's apex: SOA (serial 7, minimum 30, TTL 60), NS `ns1.<zone>` (with `glue`) and
 * `ns.outside.example`.
 */
export function apexOf(
  zone: string,
  glue: { a: string[]; aaaa: string[] } = { a: ['192.0.2.53'], aaaa: ['2001:db8::53'] },
): ZoneApex {
  return {
    zone,
    soa: {
      mname: `ns1.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 7,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    },
    soaTtl: 60,
    ns: [`ns1.${zone}`, 'ns.outside.example'],
    nsTtl: 3600,
    glue: new Map([[`ns1.${zone}`, glue]]),
  };
}

/** The zone as the shared rules see it. */
export function ruleZone(apex: ZoneApex): RuleZone {
  return { name: apex.zone, apex, negativeSoa: negativeSoa(apex) };
}
