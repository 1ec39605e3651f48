import net from 'node:net';
import {
  type DnsRecord,
  decode,
  encode,
  flatRecord,
  RCODE,
  serialCompare,
  type TransferOutcome,
  type TransferProblem,
  type TsigKey,
  tsigSign,
  tsigSplit,
  tsigVerifySplit,
  validateTransfer,
  type ZoneCopy,
} from '@mdns/protocol';
import { lengthPrefix, MALFORMED_FRAME, TcpFrameDecoder } from '../tcp-framing.js';
import { randomQueryId } from './query-bytes.js';

/** Why a pull failed; nothing of a failed pull may replace the copy we hold. */
export type TransferFailure =
  | TransferProblem
  /** Could not connect within `connectTimeoutMs` (or refused). */
  | 'connect'
  /** No message for `idleTimeoutMs`, or the whole transfer over `totalTimeoutMs`. */
  | 'timeout'
  /** The connection ended before the closing SOA (a cut or truncated stream). */
  | 'cut'
  /** The primary answered with an error rcode (REFUSED, NOTAUTH, …). */
  | 'rcode'
  /** A message without a valid TSIG, or with one that does not verify (RFC 8945). */
  | 'tsig';

export type TransferResult =
  | (TransferOutcome & { ok: true; messages: number; bytes: number })
  | { ok: false; failure: TransferFailure; detail: string; rcode?: number };

export interface TransferRequest {
  host: string;
  port: number;
  zone: string;
  /** IXFR needs the copy we hold (its serial goes into the request, its records take the diffs). */
  kind: 'AXFR' | 'IXFR';
  current?: ZoneCopy;
  /** Sign the request and require a valid TSIG on the response (every 100th message at least). */
  key?: TsigKey;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** Longest wait for the next message. Default 10000. */
  idleTimeoutMs?: number;
  /** Bound of the whole transfer. Default 120000. */
  totalTimeoutMs?: number;
  /** Bytes received at most (every message). Default 256 MiB. */
  maxBytes?: number;
  /** Records of the resulting zone at most. Default 1 000 000. */
  maxRecords?: number;
  /** Unix seconds, for TSIG. */
  now?: () => number;
}

/** RFC 8945 5.3.1: a signed message at least every 100. */
const MAX_UNSIGNED_RUN = 99;

/**
 * Pulls a zone over TCP (RFC 5936 AXFR / RFC 1995 IXFR, RFC 7766 framing), verifies the TSIG
 * of every message (RFC 8945 5.3.1 chain) and checks the whole with `validateTransfer`. Never
 * throws for anything the peer does: every failure is a typed value.
 */
export function pullZone(request: TransferRequest): Promise<TransferResult> {
  const now = request.now ?? (() => Math.floor(Date.now() / 1000));
  const maxBytes = request.maxBytes ?? 256 * 1024 * 1024;
  const maxRecords = request.maxRecords ?? 1_000_000;
  const id = randomQueryId();
  let query = encode({
    id,
    type: 'query',
    flags: 0,
    questions: [{ name: request.zone, type: request.kind, class: 'IN' }],
    authorities:
      request.kind === 'IXFR' && request.current
        ? [soaFor(request.zone, request.current.serial)]
        : [],
  });
  let requestMac: Uint8Array | undefined;
  if (request.key) {
    const signed = tsigSign(query, { key: request.key, timeSigned: now() });
    query = signed.bytes;
    requestMac = signed.mac;
  }
  const reader = new TransferReader(
    id,
    request.key,
    requestMac,
    now,
    request.kind === 'IXFR' ? request.current?.serial : undefined,
  );

  return new Promise((resolve) => {
    const socket = net.connect({ host: request.host, port: request.port, noDelay: true });
    const decoder = new TcpFrameDecoder();
    let bytes = 0;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (result: TransferResult) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve(result);
    };
    const failed = (failure: TransferFailure, detail: string, rcode?: number) =>
      finish(
        rcode === undefined
          ? { ok: false, failure, detail }
          : { ok: false, failure, detail, rcode },
      );
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(
        () => failed('timeout', `no message for ${request.idleTimeoutMs ?? 10_000} ms`),
        request.idleTimeoutMs ?? 10_000,
      );
      timers.push(idle);
    };
    timers.push(
      setTimeout(
        () => failed('connect', `no connection within ${request.connectTimeoutMs ?? 5000} ms`),
        request.connectTimeoutMs ?? 5000,
      ),
    );
    timers.push(
      setTimeout(
        () =>
          failed('timeout', `transfer not complete within ${request.totalTimeoutMs ?? 120_000} ms`),
        request.totalTimeoutMs ?? 120_000,
      ),
    );
    socket.on('connect', () => {
      clearTimeout(timers[0]);
      armIdle();
      socket.write(lengthPrefix(query.length));
      socket.write(query);
    });
    socket.on('error', (e) =>
      failed(reader.started ? 'cut' : 'connect', `${request.host}:${request.port}: ${e.message}`),
    );
    socket.on('close', () => failed('cut', 'the connection ended before the closing SOA'));
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return failed('too-large', `over ${maxBytes} bytes`);
      armIdle();
      decoder.feed(chunk);
      for (;;) {
        const frame = decoder.next();
        if (frame === null) return;
        if (frame === MALFORMED_FRAME)
          return failed('malformed', 'a TCP frame shorter than a header');
        const step = reader.message(frame);
        if (step.kind === 'fail') return failed(step.failure, step.detail, step.rcode);
        if (step.kind === 'more') continue;
        const outcome = validateTransfer(request.zone, reader.answers, request.current, {
          maxRecords,
        });
        if (!outcome.ok) return failed(outcome.problem, outcome.detail);
        return finish({ ...outcome, messages: reader.messages, bytes });
      }
    });
  });
}

type Step =
  | { kind: 'more' }
  | { kind: 'end' }
  | { kind: 'fail'; failure: TransferFailure; detail: string; rcode?: number };

/**
 * One transfer's messages in order: ID, rcode and TSIG checks per message, answers collected,
 * and the end found (RFC 5936 2.2: the SOA again; RFC 1995: the new SOA after the last
 * additions, or a lone SOA for "up to date"). No sockets: fed message by message.
 */
export class TransferReader {
  readonly answers: DnsRecord[] = [];
  messages = 0;
  #previousMac: Uint8Array | undefined;
  #unsigned: Uint8Array[] = [];
  /** IXFR parse state: SOAs seen after the first. */
  #soas = 0;

  constructor(
    private readonly id: number,
    private readonly key: TsigKey | undefined,
    private readonly requestMac: Uint8Array | undefined,
    private readonly now: () => number,
    /** IXFR: the serial we hold (a lone SOA with it means "up to date"). */
    private readonly currentSerial?: number,
  ) {}

  get started(): boolean {
    return this.messages > 0;
  }

  message(bytes: Uint8Array): Step {
    this.messages++;
    const split = tsigSplit(bytes);
    if (!split.ok)
      return {
        kind: 'fail',
        failure: 'malformed',
        detail: `message ${this.messages}: ${split.error}`,
      };
    const id = (split.unsigned[0] << 8) | split.unsigned[1];
    if (id !== this.id || (split.unsigned[2] & 0x80) === 0) {
      return {
        kind: 'fail',
        failure: 'malformed',
        detail: `message ${this.messages}: not a reply to our query`,
      };
    }
    const rcode = split.unsigned[3] & 0x0f;
    if (rcode !== RCODE.NOERROR) {
      const tsigError = split.tsig?.error ? ` (TSIG error ${split.tsig.error})` : '';
      return {
        kind: 'fail',
        failure: 'rcode',
        rcode,
        detail: `the primary answered rcode ${rcode}${tsigError}`,
      };
    }
    if (this.key) {
      const check = this.#verify(split);
      if (check) return check;
    }
    const d = decode(split.unsigned);
    if (!d.ok)
      return { kind: 'fail', failure: 'malformed', detail: `message ${this.messages}: ${d.error}` };
    for (const r of d.message.answers ?? []) {
      // Kept as long as the zone copy: flat strings, not ropes of every label (flatRecord).
      this.answers.push(flatRecord(r));
      if (this.answers.length > 1 && r.type === 'SOA' && this.#isEnd(r)) {
        if (this.key && this.#unsigned.length > 0) {
          return { kind: 'fail', failure: 'tsig', detail: 'the last message is not signed' };
        }
        return { kind: 'end' };
      }
    }
    // IXFR answered by one message holding a single SOA (RFC 1995 2): our serial ("up to
    // date"), or an older one (a primary whose serial went backwards), which no further
    // message could make a transfer; validateTransfer then says which. Only a newer SOA
    // alone in the first message may be the start of a longer answer.
    if (
      this.answers.length === 1 &&
      this.currentSerial !== undefined &&
      this.answers[0].type === 'SOA' &&
      serialCompare(
        (this.answers[0] as { data: { serial: number } }).data.serial,
        this.currentSerial,
      ) !== 1
    ) {
      return this.key && this.#unsigned.length > 0
        ? { kind: 'fail', failure: 'tsig', detail: 'the last message is not signed' }
        : { kind: 'end' };
    }
    return { kind: 'more' };
  }

  #verify(split: Extract<ReturnType<typeof tsigSplit>, { ok: true }>): Step | null {
    if (split.tsig === null) {
      if (this.#previousMac === undefined) {
        return { kind: 'fail', failure: 'tsig', detail: 'the first message is not signed' };
      }
      this.#unsigned.push(split.unsigned);
      if (this.#unsigned.length > MAX_UNSIGNED_RUN) {
        return {
          kind: 'fail',
          failure: 'tsig',
          detail: `${MAX_UNSIGNED_RUN + 1} messages in a row without TSIG`,
        };
      }
      return null;
    }
    const key = this.key!;
    const v = tsigVerifySplit(split.tsig, split.unsigned, {
      key: (name) => (name === key.name ? key : undefined),
      now: this.now(),
      ...(this.#previousMac
        ? { previousMac: this.#previousMac, unsignedBefore: this.#unsigned }
        : { requestMac: this.requestMac }),
    });
    if (!v.ok) {
      const why = 'failure' in v ? v.failure : 'invalid';
      return { kind: 'fail', failure: 'tsig', detail: `message ${this.messages}: TSIG ${why}` };
    }
    this.#previousMac = v.mac;
    this.#unsigned = [];
    return null;
  }

  /** Is this SOA (not the first record) the closing one? */
  #isEnd(soa: DnsRecord): boolean {
    const serial = (soa as { data: { serial: number } }).data.serial;
    const first = (this.answers[0] as { data: { serial: number } }).data.serial;
    this.#soas++;
    // AXFR (or AXFR-style IXFR): the second record is not a SOA; the end is the first SOA again.
    if (this.answers[1]?.type !== 'SOA') return serial === first;
    // IXFR: SOAs after the first alternate old, new, old, new…; a SOA in an "old" slot with
    // the announced serial closes it.
    return this.#soas % 2 === 1 && this.#soas > 1 && serial === first;
  }
}

function soaFor(zone: string, serial: number): DnsRecord {
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl: 0,
    data: { mname: '.', rname: '.', serial, refresh: 0, retry: 0, expire: 0, minimum: 0 },
  } as DnsRecord;
}
