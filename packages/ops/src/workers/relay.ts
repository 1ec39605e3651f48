import type { ToPrimary, ToWorker } from './ipc.js';

/** The longest a sibling question may wait in the primary, whatever a worker asks for. */
const MAX_ASK_MS = 10_000;

/**
 * The primary's part in the sibling channel: a `siblings` event goes on to every other
 * worker; a `sibling-ask` is relayed to every other worker and settled by the first answer
 * that is not empty (null or undefined), by the last sibling's empty answer, or by its
 * timeout, whichever comes first — then exactly one `sibling-answer` goes back to the asker.
 * No process here: `peers` are the running workers, `send` writes to one and throws when it
 * is gone (a gone sibling counts as an empty answer), `answers` says whether a peer takes
 * questions yet (a worker still starting gets events, no questions).
 */
export class SiblingRouter<P> {
  private nextId = 1;
  private readonly open = new Map<number, OpenAsk>();

  constructor(
    private readonly peers: () => readonly P[],
    private readonly send: (peer: P, message: ToWorker) => void,
    private readonly answers: (peer: P) => boolean = () => true,
  ) {}

  /** A worker's message; false when it is not a sibling message (the caller's, then). */
  route(from: P, message: ToPrimary): boolean {
    if (message.mdns === 'siblings') {
      const relay: ToWorker = { mdns: 'siblings', topic: message.topic, payload: message.payload };
      for (const peer of this.others(from)) this.trySend(peer, relay);
      return true;
    }
    if (message.mdns === 'sibling-ask') {
      this.ask(from, message);
      return true;
    }
    if (message.mdns === 'sibling-answer') {
      this.answer(message.id, message.value);
      return true;
    }
    return false;
  }

  /** Questions still waiting for their siblings. */
  get pending(): number {
    return this.open.size;
  }

  private ask(from: P, message: Extract<ToPrimary, { mdns: 'sibling-ask' }>): void {
    const reply = (value: unknown) => {
      this.trySend(from, { mdns: 'sibling-answer', id: message.id, value: value ?? null });
    };
    const others = this.others(from).filter(this.answers);
    if (others.length === 0) {
      reply(null);
      return;
    }
    const timeoutMs = Number.isFinite(message.timeoutMs)
      ? Math.min(Math.max(0, message.timeoutMs), MAX_ASK_MS)
      : 0;
    const id = this.nextId++;
    const timer = setTimeout(() => this.settle(id, null), timeoutMs);
    this.open.set(id, { waiting: others.length, reply, timer });
    const relay: ToWorker = {
      mdns: 'sibling-ask',
      id,
      topic: message.topic,
      payload: message.payload,
    };
    for (const peer of others) if (!this.trySend(peer, relay)) this.answer(id, null);
  }

  private answer(id: number, value: unknown): void {
    const ask = this.open.get(id);
    if (ask === undefined) return; // late: the question was settled already
    if (value !== null && value !== undefined) this.settle(id, value);
    else if (--ask.waiting === 0) this.settle(id, null);
  }

  private settle(id: number, value: unknown): void {
    const ask = this.open.get(id);
    if (ask === undefined) return;
    this.open.delete(id);
    clearTimeout(ask.timer);
    ask.reply(value);
  }

  private others(from: P): P[] {
    return this.peers().filter((p) => p !== from);
  }

  private trySend(peer: P, message: ToWorker): boolean {
    return trySend(this.send, peer, message);
  }
}

/** `send`, false when the peer is gone (it throws): a gone worker is skipped, not fatal. */
export function trySend<P>(
  send: (peer: P, message: ToWorker) => void,
  peer: P,
  message: ToWorker,
): boolean {
  try {
    send(peer, message);
    return true;
  } catch {
    return false;
  }
}

interface OpenAsk {
  waiting: number;
  reply: (value: unknown) => void;
  timer: NodeJS.Timeout;
}
