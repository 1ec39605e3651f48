import { z } from 'zod';
import { ipAddress, port } from '../config/schemas.js';
import { dnsName } from '../config/server.js';

/**
 * Where a primary sends NOTIFY: `address`, or `host`, a name resolved to every A/AAAA at
 * each send, so each replica behind a headless Service gets its own NOTIFY (`targets.ts`).
 */
export const notifyTargetSchema = z
  .strictObject({
    address: ipAddress.optional(),
    host: dnsName.optional(),
    port: port.min(1).default(53),
    /** Sign the NOTIFY with this key of `transfer.keys` (a secondary that checks TSIG). */
    key: dnsName.optional(),
  })
  .refine((t) => (t.address === undefined) !== (t.host === undefined), {
    message: 'give exactly one of address or host',
  });
