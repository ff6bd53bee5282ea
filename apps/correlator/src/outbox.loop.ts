/**
 * Runs a round of work now when asked (`kick`), or right after the round under way, and otherwise every
 * `pollMs`: one round at a time, never two at once. The outboxes (Eiffel bus, notifications) drain with
 * it: a commit or a recorded firing kicks, the poll catches what a kick missed.
 */
export class OutboxLoop {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly pollMs: () => number,
  ) {}

  kick(): void {
    if (this.closed) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    clearTimeout(this.timer);
    this.running = this.round().finally(() => {
      this.busy = false;
      if (this.closed) return;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.timer = setTimeout(() => this.kick(), this.pollMs());
    });
  }

  /** No round starts after this; resolves when the one under way is done. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
