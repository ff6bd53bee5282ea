/** An ask waiting for its answer. */
interface Waiter<Q, A> {
  readonly ask: Q;
  readonly resolve: (a: A) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Sends concurrent asks of one kind together: an ask goes at once while fewer than `inFlight` batches
 * are out; asks that come while they are all out wait, and go as one batch (at most `maxBatch` asks)
 * when one comes back. Alone, an ask waits for nothing; under load, one query answers many requests,
 * where a query's own cost on the server is several times that of what it looks up.
 *
 * `run` answers a batch with one answer per ask, in the order asked; if it fails, every ask of that
 * batch fails with its error, and the others are not touched.
 */
export class Coalescer<Q, A> {
  private readonly waiting: Array<Waiter<Q, A>> = [];
  private out = 0;

  constructor(
    private readonly run: (asks: Q[]) => Promise<A[]>,
    private readonly limits: { readonly inFlight: number; readonly maxBatch: number },
  ) {
    if (limits.inFlight < 1 || limits.maxBatch < 1) throw new Error('a coalescer needs inFlight ≥ 1 and maxBatch ≥ 1');
  }

  ask(ask: Q): Promise<A> {
    return new Promise<A>((resolve, reject) => {
      this.waiting.push({ ask, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    while (this.out < this.limits.inFlight && this.waiting.length) {
      const batch = this.waiting.splice(0, this.limits.maxBatch);
      this.out++;
      void this.answer(batch).finally(() => {
        this.out--;
        this.send();
      });
    }
  }

  private async answer(batch: ReadonlyArray<Waiter<Q, A>>): Promise<void> {
    try {
      const answers = await this.run(batch.map((w) => w.ask));
      if (answers.length !== batch.length) throw new Error(`a batch of ${batch.length} asks came back with ${answers.length} answers`);
      batch.forEach((w, i) => w.resolve(answers[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
