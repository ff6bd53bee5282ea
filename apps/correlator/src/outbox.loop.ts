/**
 * How long a loop that looks for work waits before its next look, after `idleRounds` looks in a row found
 * none: `baseMs` after the first, doubling, at most `maxMs` (never less than `baseMs`). A look that finds
 * work starts the count again. A quiet correlator then asks the graph store a few times a minute instead of
 * several times a second; work it is told of (a commit, a recorded firing) is taken at once all the same.
 */
export function idleDelay(baseMs: number, maxMs: number, idleRounds: number): number {
  const cap = Math.max(baseMs, maxMs);
  return Math.min(cap, baseMs * 2 ** Math.max(0, Math.min(idleRounds - 1, 30)));
}

/**
 * Runs a round of work now when asked (`kick`), or right after the round under way, and otherwise after
 * {@link idleDelay}: `pollMs` after a round that found work (or failed), backing off to `maxPollMs` while
 * rounds find none. One round at a time, never two at once. The outboxes (Eiffel bus, notifications)
 * drain with it: a commit or a recorded firing kicks, the poll catches what a kick missed.
 */
export class OutboxLoop {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;
  private closed = false;
  private idleRounds = 0;

  /** `round` tells whether it found work (or failed, and should be tried again soon). */
  constructor(
    private readonly round: () => Promise<boolean>,
    private readonly pollMs: () => number,
    private readonly maxPollMs: () => number,
  ) {}

  kick(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    clearTimeout(this.timer);
    this.running = this.round()
      .then((soon) => {
        this.idleRounds = soon ? 0 : this.idleRounds + 1;
      })
      .finally(() => {
        this.busy = false;
        if (this.closed) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.timer = setTimeout(() => this.kick(), idleDelay(this.pollMs(), this.maxPollMs(), this.idleRounds));
      });
  }

  /** No round starts after this; resolves when the one under way is done. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
