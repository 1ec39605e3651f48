import { sourcePrefix } from './source-prefix.js';

/**
 * Response rate limiting (RRL) as BIND does it: a UDP server whose source addresses can be
 * forged must not become an amplifier, nor answer one flooding client as fast as it asks.
 * Each account {client network, response} earns `rate` credits a second and spends one per
 * response; while it is negative, responses are dropped, except every `slip`-th one, sent
 * as an empty TC=1 reply so a real client behind the forged-upon address retries over TCP
 * (which cannot be spoofed and is never limited). A flooder's balance can fall to
 * -window × rate, so it stays limited until it has been quiet for about `window` seconds.
 */
export interface RateLimitOptions {
  /** Credits a second for answers with data and NODATA, per {network, name, type}. 0 = RRL off. */
  responsesPerSecond: number;
  /** Credits a second for NXDOMAIN and errors, per network (each its own account). Default `responsesPerSecond`. */
  errorsPerSecond?: number;
  /** Seconds of flooding a balance remembers (1..3600). Default 15. */
  window?: number;
  /** Every slip-th limited response goes out as TC=1 instead of nothing; 0 = always drop. Default 2. */
  slip?: number;
  /** Client networks: IPv4 prefix length. Default 24. */
  ipv4PrefixLength?: number;
  /** Client networks: IPv6 prefix length. Default 56. */
  ipv6PrefixLength?: number;
  /** Accounts kept; the least recently used one is forgotten past this. Default 20000. */
  tableSize?: number;
}

export type RateVerdict = 'send' | 'drop' | 'slip';

/** One account's state: its credit balance at `atMs`, and limited responses counted for slip. */
export interface RateAccount {
  balance: number;
  atMs: number;
  limited: number;
}

/**
 * The decision, pure: refill the balance for the time since the last response (never above
 * one second's worth), spend one credit, and say what happens to this response.
 * Mutates `account` (the hot path allocates nothing per response).
 */
export function debit(
  account: RateAccount,
  nowMs: number,
  rate: number,
  window: number,
  slip: number,
): RateVerdict {
  const elapsedMs = Math.max(0, nowMs - account.atMs);
  account.balance = Math.min(rate, account.balance + (elapsedMs * rate) / 1000) - 1;
  account.atMs = nowMs;
  if (account.balance >= 0) return 'send';
  account.balance = Math.max(account.balance, -window * rate);
  account.limited++;
  return slip > 0 && account.limited % slip === 0 ? 'slip' : 'drop';
}

const NOERROR = 0;
const NXDOMAIN = 3;

/**
 * Which account a reply spends from. Answers and NODATA are keyed by name and type (a flood
 * for one name does not limit another); NXDOMAIN and errors by the network alone, so a
 * random-name flood shares one budget. Reads the header and the question of our own reply:
 * no decode. A reply with no scannable question counts as an error.
 */
export function responseKey(reply: Uint8Array, network: string): { key: string; error: boolean } {
  const rcode = reply.length >= 4 ? reply[3] & 0x0f : -1;
  if (rcode === NXDOMAIN) return { key: `${network} nxdomain`, error: true };
  const qdcount = reply.length >= 12 ? (reply[4] << 8) | reply[5] : 0;
  const questionEnd = qdcount === 1 ? questionEndOf(reply) : -1;
  if (rcode !== NOERROR || questionEnd < 0) return { key: `${network} error`, error: true };
  const nodata = ((reply[6] << 8) | reply[7]) === 0;
  let name = '';
  for (let i = 12; i < questionEnd - 4; i++) {
    const byte = reply[i];
    // ASCII lowercase so that 0x20 case randomisation does not open fresh accounts.
    name += String.fromCharCode(byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte);
  }
  const qtype = (reply[questionEnd - 4] << 8) | reply[questionEnd - 3];
  return { key: `${network} ${nodata ? 'nodata' : 'answer'} ${qtype} ${name}`, error: false };
}

/** Offset just past the single question (name, type, class), or -1 if it does not fit. */
function questionEndOf(reply: Uint8Array): number {
  let i = 12;
  while (i < reply.length) {
    const len = reply[i];
    if (len === 0) return i + 5 <= reply.length ? i + 5 : -1;
    if (len > 63) return -1; // a compression pointer has no business in our question
    i += len + 1;
  }
  return -1;
}

/**
 * The slip reply: the reply's header and question only, TC=1 and every other count zero.
 * A resolver retries it over TCP; it is never larger than the query, so it amplifies nothing.
 */
export function truncatedReply(reply: Uint8Array): Uint8Array {
  const qdcount = reply.length >= 12 ? (reply[4] << 8) | reply[5] : 0;
  const end = qdcount === 1 ? questionEndOf(reply) : -1;
  // A copy, never a view: a Buffer's `slice` is a view (Uint8Array's is a copy), and the
  // writes below must not reach a reply another client may be sent (a stored answer).
  const out = Uint8Array.prototype.slice.call(reply, 0, end > 0 ? end : 12);
  out[2] |= 0x02; // TC
  out[4] = 0;
  out[5] = end > 0 ? 1 : 0;
  out.fill(0, 6, 12);
  return out;
}

/** The accounts of one server; `judge` runs once per UDP reply. */
export class ResponseRateLimiter {
  private readonly accounts = new Map<string, RateAccount>();
  private readonly rate: number;
  private readonly errorRate: number;
  private readonly window: number;
  private readonly slip: number;
  private readonly ipv4Bits: number;
  private readonly ipv6Bits: number;
  private readonly tableSize: number;

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.rate = options.responsesPerSecond;
    this.errorRate = options.errorsPerSecond ?? options.responsesPerSecond;
    this.window = options.window ?? 15;
    this.slip = options.slip ?? 2;
    this.ipv4Bits = options.ipv4PrefixLength ?? 24;
    this.ipv6Bits = options.ipv6PrefixLength ?? 56;
    this.tableSize = options.tableSize ?? 20_000;
    checkRange('responsesPerSecond', this.rate, 0.001, 1e9);
    checkRange('errorsPerSecond', this.errorRate, 0.001, 1e9);
    checkRange('window', this.window, 1, 3600);
    checkRange('slip', this.slip, 0, 10, true);
    checkRange('ipv4PrefixLength', this.ipv4Bits, 0, 32, true);
    checkRange('ipv6PrefixLength', this.ipv6Bits, 0, 128, true);
    checkRange('tableSize', this.tableSize, 1, 10_000_000, true);
  }

  /** Accounts held now (bounded by `tableSize`). */
  get size(): number {
    return this.accounts.size;
  }

  judge(reply: Uint8Array, clientAddress: string): RateVerdict {
    const network = sourcePrefix(clientAddress, this.ipv4Bits, this.ipv6Bits);
    const { key, error } = responseKey(reply, network);
    const rate = error ? this.errorRate : this.rate;
    const nowMs = this.now();
    let account = this.accounts.get(key);
    if (account === undefined) {
      if (this.accounts.size >= this.tableSize) {
        // Least recently used first: a flooder's busy account is never the one forgotten.
        this.accounts.delete(this.accounts.keys().next().value as string);
      }
      account = { balance: rate, atMs: nowMs, limited: 0 };
    } else {
      this.accounts.delete(key);
    }
    this.accounts.set(key, account);
    return debit(account, nowMs, rate, this.window, this.slip);
  }
}

function checkRange(name: string, value: number, min: number, max: number, integer = false): void {
  if (
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? 'an integer' : 'a number';
    throw new Error(
      `DnsServer: rateLimit.${name} must be ${what} between ${min} and ${max}, got ${value}`,
    );
  }
}
