import { QTYPE, RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { chainFor, classifyFailure, classifyReply } from '../src/upstream/classify.js';

const a = (name: string, data: string) => ({ name, type: 'A' as const, ttl: 60, data });
const cname = (name: string, data: string) => ({ name, type: 'CNAME' as const, ttl: 60, data });

describe('classify: upstream reply -> outcome', () => {
  it('NOERROR with a record of the type is POSITIVE', () => {
    const c = classifyReply(
      { rcode: RCODE.NOERROR, answers: [a('svc.z', '10.0.0.1')] },
      'svc.z',
      QTYPE.A,
    );
    expect(c.class).toBe('POSITIVE');
    expect(c.records).toHaveLength(1);
  });
  it('matches the owner name case-insensitively (0x20 upstreams)', () => {
    const c = classifyReply(
      { rcode: RCODE.NOERROR, answers: [a('SvC.Z.', '10.0.0.1')] },
      'svc.z',
      QTYPE.A,
    );
    expect(c.class).toBe('POSITIVE');
  });
  it('NOERROR with a CNAME for the name is POSITIVE and keeps the chain', () => {
    const answers = [cname('www.z', 'lb.z'), a('lb.z', '10.0.0.2'), a('other.z', '10.9.9.9')];
    const c = classifyReply({ rcode: RCODE.NOERROR, answers }, 'www.z', QTYPE.A);
    expect(c.class).toBe('POSITIVE');
    expect(c.records.map((r) => r.name)).toEqual(['www.z', 'lb.z']);
  });
  it('NOERROR empty is NODATA', () => {
    expect(classifyReply({ rcode: RCODE.NOERROR, answers: [] }, 'svc.z', QTYPE.AAAA).class).toBe(
      'NODATA',
    );
  });
  it('NOERROR with records only for other names or types is NODATA', () => {
    const c = classifyReply(
      { rcode: RCODE.NOERROR, answers: [a('other.z', '10.0.0.1')] },
      'svc.z',
      QTYPE.A,
    );
    expect(c.class).toBe('NODATA');
    expect(
      classifyReply({ rcode: 0, answers: [a('svc.z', '10.0.0.1')] }, 'svc.z', QTYPE.AAAA).class,
    ).toBe('NODATA');
  });
  it('NXDOMAIN is NXDOMAIN', () => {
    expect(classifyReply({ rcode: RCODE.NXDOMAIN, answers: [] }, 'x.z', QTYPE.A).class).toBe(
      'NXDOMAIN',
    );
  });
  it('NXDOMAIN that still starts a CNAME chain at the name is POSITIVE (RFC 6604)', () => {
    const c = classifyReply(
      { rcode: RCODE.NXDOMAIN, answers: [cname('x.z', 'gone.z')] },
      'x.z',
      QTYPE.A,
    );
    expect(c.class).toBe('POSITIVE');
  });
  it.each([
    ['SERVFAIL', RCODE.SERVFAIL],
    ['REFUSED', RCODE.REFUSED],
    ['NOTIMP', RCODE.NOTIMP],
    ['FORMERR', RCODE.FORMERR],
    ['NOTAUTH', 9],
    ['RCODE23', 23],
  ])('%s is FAILED', (name, rcode) => {
    const c = classifyReply({ rcode, answers: [a('svc.z', '10.0.0.1')] }, 'svc.z', QTYPE.A);
    expect(c.class).toBe('FAILED');
    expect(c.reason).toContain(name);
  });
  it('no reply (timeout, socket error) is FAILED with no rcode', () => {
    const c = classifyFailure('timeout after 50 ms');
    expect(c).toMatchObject({ class: 'FAILED', rcode: null });
  });
  it('a CNAME loop stops', () => {
    const loop = [cname('a.z', 'b.z'), cname('b.z', 'a.z')];
    expect(chainFor(loop, 'a.z', QTYPE.A)).toHaveLength(2);
  });
  it('the chain stops at the zone boundary: the CNAME pointing out stays, its target does not', () => {
    const answers = [
      cname('www.z', 'lb.z'),
      cname('lb.z', 'lb.cloud.example'),
      a('lb.cloud.example', '198.51.100.66'),
    ];
    const c = classifyReply({ rcode: RCODE.NOERROR, answers }, 'www.z', QTYPE.A, 'z');
    expect(c.class).toBe('POSITIVE');
    expect(c.records.map((r) => `${r.name} ${r.type}`)).toEqual(['www.z CNAME', 'lb.z CNAME']);
    // Without a zone (the default) the chain is followed to the end.
    expect(chainFor(answers, 'www.z', QTYPE.A)).toHaveLength(3);
  });
  it('asking for CNAME itself does not follow it', () => {
    const r = chainFor([cname('a.z', 'b.z'), cname('b.z', 'c.z')], 'a.z', QTYPE.CNAME);
    expect(r.map((x) => x.name)).toEqual(['a.z']);
  });
});
