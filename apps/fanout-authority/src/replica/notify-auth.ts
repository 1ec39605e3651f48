import {
  type DnsRecord,
  decode,
  type TsigKey,
  type TsigVerifyResult,
  tsigSplit,
  tsigVerifySplit,
} from '@mdns/protocol';

/**
 * A NOTIFY for a zone we replicate with a TSIG key must be signed with that key: it makes us
 * pull a zone, and an address check alone lets anyone who can spoof a gateway's address do
 * that at will. Pure: bytes and a key in, the verdict out.
 */
export type NotifyAuth =
  /** Signed with the key (or no key asked for); `mac` to sign the acknowledgement. */
  | { ok: true; mac: Uint8Array | null; serial: number | undefined }
  | { ok: false; reason: 'unsigned' | 'bad-tsig'; detail: string };

export function checkNotify(
  message: Uint8Array,
  key: TsigKey | undefined,
  nowSeconds: number,
): NotifyAuth {
  const split = tsigSplit(message);
  if (!split.ok) return { ok: false, reason: 'bad-tsig', detail: split.error };
  let mac: Uint8Array | null = null;
  if (key !== undefined) {
    if (split.tsig === null) {
      return { ok: false, reason: 'unsigned', detail: `no TSIG; key ${key.name} required` };
    }
    const v: TsigVerifyResult = tsigVerifySplit(split.tsig, split.unsigned, {
      key: (name) => (name === key.name ? key : undefined),
      now: nowSeconds,
    });
    if (!v.ok) {
      const why = 'tsig' in v ? `${v.failure} (key ${v.tsig.keyName})` : v.failure;
      return { ok: false, reason: 'bad-tsig', detail: `TSIG ${why}` };
    }
    mac = v.mac;
  }
  return { ok: true, mac, serial: announcedSerial(split.unsigned) };
}

/** The SOA serial a NOTIFY carries in its answer section (RFC 1996 3.7), if any. */
function announcedSerial(unsigned: Uint8Array): number | undefined {
  const d = decode(unsigned);
  if (!d.ok) return undefined;
  const soa = (d.message.answers ?? []).find((r: DnsRecord) => r.type === 'SOA');
  const serial = (soa as { data?: { serial?: unknown } } | undefined)?.data?.serial;
  return typeof serial === 'number' ? serial >>> 0 : undefined;
}
