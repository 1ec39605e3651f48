import { type DnsRecord, normalizeName, QTYPE, typeNumber } from '@mdns/protocol';
import type { PendingQuery } from '@mdns/transport';
import type { ZoneRuntime } from '../config/runtime.js';
import type { AnswerBytes, Classification } from '../upstream/classify.js';
import type { Exchange, ExchangeListener } from '../upstream/upstream.js';
import { chooseOwnerData, type Decision, decide, type UpstreamState } from './merge.js';

/** The decided result of one fan-out, before it becomes reply bytes. */
export interface FanoutResult {
  decision: Exclude<Decision, { kind: 'wait' }>;
  /** Answer records for a positive decision (merged and deduplicated for `all`). */
  records: DnsRecord[];
  /** Additional records (SRV/MX target addresses) of the answers that formed `records`. */
  additionals: DnsRecord[];
  /**
   * A single winner whose reply can be served as bytes (`Classification.wire`): the handler
   * patches it (@mdns/protocol `patchAnswer`); `records` then decodes only when read.
   */
  wire?: AnswerBytes;
  /**
   * Names of the upstreams whose POSITIVE decided the answer: for `all` also one whose CNAME
   * was left out by the owner-data rule (a change there can change the answer).
   */
  winners: string[];
  /** Per zone member, in config order: its exchange, or null when skipped or cancelled early. */
  exchanges: Array<Exchange | null>;
  /** Per zone member, in config order: its replica's outcome when it answered (no exchange). */
  fromReplica: Array<Classification | null>;
  /** Upstream queries sent on the network (0: answered from replicas alone). */
  sent: number;
  /** ms from start to the decision. */
  decidedAfterMs: number;
}

export interface FanoutOptions {
  allPolicyWaitMs: number;
  /**
   * `explain`: do not cancel the losers; resolve once every asked upstream has finished, so
   * each one's reply can be shown. The decision is still the one taken at the moment the
   * live path would have taken it.
   */
  waitForAll?: boolean;
}

/**
 * Answers each upstream with a fresh replica from memory, asks every other healthy upstream
 * of the zone in parallel, and feeds each outcome to `decide` (merge.ts) until it returns
 * something other than `wait`; the rest are then cancelled. Replica outcomes arrive first,
 * in config order (so `first` means the first replica in config order with a POSITIVE); when
 * they decide, or every upstream has a replica, nothing goes on the network. Every wait is
 * bounded: each upstream query by its learned timeout, the `all` policy by `allPolicyWaitMs`
 * after the first POSITIVE.
 */
export function fanout(
  zone: ZoneRuntime,
  qname: string,
  qtype: number,
  options: FanoutOptions,
): Promise<FanoutResult> {
  return new Promise((resolve) =>
    startFanout(zone, qname, qtype, options, new ResolveOnFanout(resolve)),
  );
}

/** Hears a fan-out's result (the miss path's own per-miss record: no closure per miss). */
export interface FanoutListener {
  onFanout(result: FanoutResult): void;
}

class ResolveOnFanout implements FanoutListener {
  constructor(private readonly resolve: (result: FanoutResult) => void) {}
  onFanout(result: FanoutResult): void {
    this.resolve(result);
  }
}

/** `fanout` without a Promise (the miss path): `listener` hears once, maybe synchronously. */
export function startFanout(
  zone: ZoneRuntime,
  qname: string,
  qtype: number,
  options: FanoutOptions,
  listener: FanoutListener,
): void {
  new FanoutRun(zone, qname, qtype, options, listener).start();
}

/**
 * One fan-out's state. It is the listener of every upstream query it sends (each reports
 * under its member index), so a fan-out allocates no closure per upstream.
 */
class FanoutRun implements ExchangeListener {
  private readonly started = performance.now();
  private readonly members: ZoneRuntime['members'];
  // The losers are cancelled with a plain call (no AbortController/DOMException per query).
  private readonly pending: Array<PendingQuery | null>;
  private readonly fromReplica: Array<Classification | null>;
  private readonly exchanges: Array<Exchange | null>;
  private readonly states: UpstreamState[];
  private arrivals = 0;
  private sent = 0;
  private outstanding = 0;
  private decided: FanoutResult | null = null;
  private delivered = false;
  private allTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly zone: ZoneRuntime,
    private readonly qname: string,
    private readonly qtype: number,
    private readonly options: FanoutOptions,
    private readonly listener: FanoutListener,
  ) {
    const members = zone.members;
    this.members = members;
    const n = members.length;
    this.pending = new Array(n).fill(null);
    this.fromReplica = new Array(n).fill(null);
    this.exchanges = new Array(n).fill(null);
    this.states = new Array(n);
    const nowMs = Date.now();
    for (let i = 0; i < n; i++) {
      const m = members[i];
      // A fresh replica answers whatever the upstream's health: a dead primary's copy is
      // served until it expires (the secondary-DNS contract).
      const outcome = m.replica?.answer(qname, qtype, nowMs) ?? null;
      if (outcome !== null) {
        this.fromReplica[i] = outcome;
        this.states[i] = {
          name: m.upstream.name,
          priority: m.priority,
          status: 'done',
          outcome,
          order: this.arrivals++,
          unhealthy: false,
        };
      } else {
        this.states[i] = {
          name: m.upstream.name,
          priority: m.priority,
          status: m.upstream.healthy ? 'pending' : 'skipped',
          unhealthy: !m.upstream.healthy,
        };
      }
    }
  }

  start(): void {
    // The replicas may decide alone (a POSITIVE under `first`, or nobody left to ask).
    if (this.fromReplica.some((o) => o !== null)) this.evaluate(false);
    const waitForAll = this.options.waitForAll === true;
    for (let i = 0; i < this.members.length; i++) {
      if (this.states[i].status !== 'pending' || (this.decided && !waitForAll)) continue;
      this.outstanding++;
      this.sent++;
      this.pending[i] = this.members[i].upstream.sendTo(this, i, this.qname, this.qtype);
    }
    this.evaluate(false);
  }

  /** An upstream query of this fan-out settled (never called for a cancelled one). */
  onExchange(i: number, exchange: Exchange): void {
    this.pending[i] = null;
    this.outstanding--;
    this.exchanges[i] = exchange;
    if (!this.decided) {
      const state = this.states[i]; // this fan-out's own object: updated in place
      state.status = 'done';
      state.outcome = exchange.outcome;
      state.order = this.arrivals++;
    }
    this.evaluate(false);
  }

  /** The `all` policy's wait after the first POSITIVE ran out. */
  onAllWait(): void {
    this.evaluate(true);
  }

  private finish(): void {
    if (this.allTimer) clearTimeout(this.allTimer);
    if (this.delivered || this.decided === null) return;
    if (this.options.waitForAll && this.outstanding !== 0) return;
    this.delivered = true;
    this.listener.onFanout(this.decided);
  }

  private evaluate(allWaitExpired: boolean): void {
    if (this.decided) {
      this.finish();
      return;
    }
    const { states, members, zone } = this;
    for (let i = 0; i < states.length; i++) {
      if (this.fromReplica[i] === null) states[i].unhealthy = !members[i].upstream.healthy;
    }
    const decision = decide({ policy: zone.policy, upstreams: states, allWaitExpired });
    if (decision.kind === 'wait') {
      if (
        zone.policy === 'all' &&
        !this.allTimer &&
        states.some((s) => s.outcome?.class === 'POSITIVE')
      ) {
        this.allTimer = setTimeout(onAllWait, this.options.allPolicyWaitMs, this);
      }
      return;
    }
    // The result may share this run's arrays unless `waitForAll` lets exchanges arrive after
    // the decision (the losers are cancelled below: nothing writes to them again).
    const own = this.options.waitForAll === true;
    this.decided = resultOf(
      decision,
      this.qname,
      states,
      own ? [...this.exchanges] : this.exchanges,
      own ? [...this.fromReplica] : this.fromReplica,
      this.sent,
      this.started,
    );
    if (!this.options.waitForAll) {
      for (let i = 0; i < this.pending.length; i++) {
        this.pending[i]?.cancel();
        this.pending[i] = null;
      }
    }
    this.finish();
  }
}

function onAllWait(run: FanoutRun): void {
  run.onAllWait();
}

/**
 * The decision when every member of the zone has a fresh replica: synchronous, nothing on
 * the network, the same `decide` and `resultOf` as `fanout` (so the same bytes follow). Only
 * the copies that can matter are consulted: under `first` in config order and under
 * `priority` best priority first (ties in config order, as the replicas' arrival order is in
 * `fanout`), stopping at the first POSITIVE; `all` consults every copy. A copy not consulted
 * is marked skipped: it can only be when a POSITIVE already decided, where skipped ones play
 * no part. Null when a member has no fresh copy (the caller fans out).
 */
export function decideFromReplicas(
  zone: ZoneRuntime,
  qname: string,
  qtype: number,
  nowMs: number,
): FanoutResult | null {
  const started = performance.now();
  const members = zone.members;
  for (const m of members) if (m.replica?.fresh(nowMs) == null) return null;
  const fromReplica: Array<Classification | null> = members.map(() => null);
  const states: UpstreamState[] = members.map((m) => ({
    name: m.upstream.name,
    priority: m.priority,
    status: 'skipped',
    unhealthy: false,
  }));
  const order = consultOrder(zone);
  let arrivals = 0;
  for (const i of order) {
    const outcome = members[i].replica?.answer(qname, qtype, nowMs) ?? null;
    if (outcome === null) return null; // expired between the two reads: the long way
    fromReplica[i] = outcome;
    const state = states[i];
    state.status = 'done';
    state.outcome = outcome;
    state.order = arrivals++;
    if (zone.policy !== 'all' && outcome.class === 'POSITIVE') break;
  }
  const decision = decide({ policy: zone.policy, upstreams: states, allWaitExpired: false });
  if (decision.kind === 'wait') return null; // cannot happen with nobody pending
  const exchanges = members.map(() => null);
  return resultOf(decision, qname, states, exchanges, fromReplica, 0, started);
}

/** Member indexes in the order `decideFromReplicas` consults them. */
function consultOrder(zone: ZoneRuntime): number[] {
  const order = zone.members.map((_, i) => i);
  if (zone.policy === 'priority') {
    // Array.prototype.sort is stable: equal priorities stay in config order.
    order.sort((a, b) => zone.members[a].priority - zone.members[b].priority);
  }
  return order;
}

function resultOf(
  decision: Exclude<Decision, { kind: 'wait' }>,
  qname: string,
  states: readonly UpstreamState[],
  exchanges: Array<Exchange | null>,
  fromReplica: Array<Classification | null>,
  sent: number,
  started: number,
): FanoutResult {
  const decidedAfterMs = performance.now() - started;
  if (decision.kind !== 'positive') {
    return {
      decision,
      records: [],
      additionals: [],
      winners: [],
      exchanges,
      fromReplica,
      sent,
      decidedAfterMs,
    };
  }
  const only = decision.winners.length === 1 ? states[decision.winners[0]].outcome : undefined;
  if (only?.wire !== undefined) {
    // Lazy: the records are decoded only if the bytes cannot be served as they are.
    return {
      decision,
      get records() {
        return only.records;
      },
      get additionals() {
        return [...(only.additionals ?? NO_RECORDS)];
      },
      wire: only.wire,
      winners: [states[decision.winners[0]].name],
      exchanges,
      fromReplica,
      sent,
      decidedAfterMs,
    };
  }
  const answer = positiveAnswer(decision.winners, qname, states);
  return {
    decision: answer.why === '' ? decision : { ...decision, why: `${decision.why}; ${answer.why}` },
    records: answer.records,
    additionals: answer.additionals,
    winners: decision.winners.map((i) => states[i].name),
    exchanges,
    fromReplica,
    sent,
    decidedAfterMs,
  };
}

/**
 * The answer records of a positive decision: the one winner's records, or for `all` the
 * union of the winners' records that may stand together at qname (`chooseOwnerData`: never
 * a CNAME beside other data). The additional records come from the same answers only (an
 * upstream left out brings none), merged like the answers: deduplicated, each RRset at its
 * lowest TTL. `why` names what was left out, '' when nothing was.
 */
export function positiveAnswer(
  winners: readonly number[],
  qname: string,
  states: readonly UpstreamState[],
): { records: DnsRecord[]; additionals: DnsRecord[]; why: string } {
  const lists = winners.map((i) => states[i].outcome?.records ?? []);
  const extra = winners.map((i) => states[i].outcome?.additionals ?? NO_RECORDS);
  if (lists.length === 1) return { records: lists[0], additionals: [...extra[0]], why: '' };
  const choice = chooseOwnerData(lists, qname);
  const records = mergeRecords(choice.kept.map((i) => lists[i]));
  const additionals = mergeRecords(choice.kept.map((i) => extra[i]));
  if (choice.dropped.length === 0) return { records, additionals, why: '' };
  const left = choice.dropped.map((i) => states[winners[i]].name).join(', ');
  return { records, additionals, why: `left out ${left}: ${choice.why}` };
}

const NO_RECORDS: readonly DnsRecord[] = [];

/**
 * Union of several upstreams' answers (`all` policy): records deduplicated by owner, type
 * and data (`rdataKey`); RRsets kept contiguous in first-seen order; each RRset gets the
 * lowest TTL any of its records had, duplicates included (RFC 2181 5.2: an RRset has one
 * TTL, and the lower one is the safe one).
 */
export function mergeRecords(lists: ReadonlyArray<readonly DnsRecord[]>): DnsRecord[] {
  const sets = new Map<string, { ttl: number; records: Map<string, DnsRecord> }>();
  for (const list of lists) {
    for (const rr of list) {
      const setKey = `${normalizeName(rr.name)}/${rr.type}`;
      let set = sets.get(setKey);
      if (!set) {
        set = { ttl: Number.POSITIVE_INFINITY, records: new Map() };
        sets.set(setKey, set);
      }
      set.ttl = Math.min(set.ttl, ttlOf(rr));
      const dataKey = rdataKey(rr);
      if (!set.records.has(dataKey)) set.records.set(dataKey, rr);
    }
  }
  const out: DnsRecord[] = [];
  for (const { ttl, records } of sets.values()) {
    for (const rr of records.values()) out.push({ ...rr, ttl } as DnsRecord);
  }
  return out;
}

/**
 * What makes two records of one RRset the same: their data, with the domain names in it
 * compared as DNS compares them (case-insensitive, RFC 4343). Upstreams are asked in random
 * case (0x20) and a gateway compresses an MX exchange or PTR target against the question,
 * so one cluster's `mail.PrOd.test` is another's `mail.pRoD.test`. Other data (TXT, CAA
 * values, addresses) compares byte for byte.
 */
export function rdataKey(rr: DnsRecord): string {
  const data = (rr as { data?: unknown }).data;
  const type = typeNumber(String(rr.type)) ?? -1;
  if (typeof data === 'string' && NAME_DATA.has(type)) return normalizeName(data);
  if (type === QTYPE.MX && data && typeof data === 'object') {
    const mx = data as { preference?: number; exchange?: string };
    return `${mx.preference} ${normalizeName(String(mx.exchange))}`;
  }
  if (type === QTYPE.SRV && data && typeof data === 'object') {
    const srv = data as { priority?: number; weight?: number; port?: number; target?: string };
    return `${srv.priority} ${srv.weight} ${srv.port} ${normalizeName(String(srv.target))}`;
  }
  return JSON.stringify(data, bufferAsHex);
}

// Types whose whole data is one domain name.
const NAME_DATA = new Set<number>([QTYPE.CNAME, QTYPE.PTR, QTYPE.NS]);

function ttlOf(rr: DnsRecord): number {
  return (rr as { ttl?: number }).ttl ?? 0;
}

function bufferAsHex(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: string }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex');
  }
  return value;
}
