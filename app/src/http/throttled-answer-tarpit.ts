import type { ServerResponse } from 'node:http';

export interface TarpitOptions {
  /** How long a throttled answer is held before it is written. @default 1000 */
  readonly holdMs?: number;
  /** The most answers written per second, spread over ticks. @default 1000 */
  readonly answersPerSecond?: number;
  /** The most answers held at once; past it, answers are written at once. @default 10000 */
  readonly maxHeld?: number;
  /** How often held answers are released. @default 10 */
  readonly tickMs?: number;
  readonly now?: () => number;
}

/** Writes a held answer; `heldMs` is how long it waited. */
export type HeldAnswer = (heldMs: number) => void;

interface Held {
  readonly response: ServerResponse;
  readonly answer: HeldAnswer;
  readonly since: number;
}

/**
 * Holds the 429s of throttled requests for a moment and writes them at a steady pace. Answering
 * costs the event loop that valid requests share (mostly the socket write), and a flooder
 * answered at once sends its next request at once: its whole concurrency arrives in one burst,
 * answer after answer. Held, each of its connections carries a request per `holdMs` at most, and
 * released at most `answersPerSecond`, its next requests come spread out instead of bunched.
 * A held answer costs only its place in the queue (the socket is open anyway), and `maxHeld`
 * bounds the queue; a client that gives up is skipped.
 */
export class ThrottledAnswerTarpit {
  private readonly holdMs: number;
  private readonly perTick: number;
  private readonly maxHeld: number;
  private readonly tickMs: number;
  private readonly now: () => number;
  private queue: Held[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: TarpitOptions = {}) {
    this.holdMs = options.holdMs ?? 1_000;
    this.tickMs = options.tickMs ?? 10;
    this.perTick = Math.max(
      1,
      Math.round(((options.answersPerSecond ?? 1_000) * this.tickMs) / 1000),
    );
    this.maxHeld = options.maxHeld ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** How many answers are held now. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Holds `answer` for `response`, or writes it at once when the tarpit is full. */
  hold(response: ServerResponse, answer: HeldAnswer): void {
    if (this.size >= this.maxHeld) {
      answer(0);
      return;
    }
    this.queue.push({ response, answer, since: this.now() });
    this.timer ??= setInterval(() => this.release(), this.tickMs);
  }

  /** Writes every held answer now (the server is closing). */
  releaseAll(): void {
    this.release(Number.POSITIVE_INFINITY, 0);
  }

  private release(budget = this.perTick, holdMs = this.holdMs): void {
    const now = this.now();
    let written = 0;
    while (written < budget && this.head < this.queue.length) {
      const held = this.queue[this.head] as Held;
      const heldMs = now - held.since;
      if (heldMs < holdMs) break;
      this.head += 1;
      if (held.response.destroyed || held.response.writableEnded) continue;
      held.answer(heldMs);
      written += 1;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (this.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.queue = [];
      this.head = 0;
    }
  }
}
