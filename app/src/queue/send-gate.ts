/**
 * At most `limit` sends handed to the SMTP pool at once, process-wide; the rest wait here, in
 * arrival order. nodemailer builds a message (its MIME tree and streams) as soon as sendMail is
 * called, and a pool of N connections sends only N at a time: without the gate, every claimed
 * email of every worker would be built up front and wait, alive, in nodemailer's queue.
 */
export class SendGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new Error(`SendGate limit must be a positive integer, got ${limit}`);
    }
  }

  async run<T>(send: () => Promise<T>): Promise<T> {
    if (this.#running >= this.limit) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    try {
      return await send();
    } finally {
      // The slot passes straight to the next waiter, so none can be overtaken.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
