/**
 * ZooKeeper's FIFO client order, for sending: a client's calls reach the backend in the
 * order they were made. Each call takes a ticket when made; it may send once every earlier
 * ticket has sent or given up (failed before sending). Calls that need nothing first send
 * at once, synchronously, as if this were not here; a read that sets a watch first declares
 * its interest (a round trip on Redis) and meanwhile holds back the calls made after it,
 * while the preparations of several such reads still overlap.
 */
export class SendOrder {
  /** The next ticket to hand out. */
  private issued = 0;
  /** Every ticket below this one has sent or given up. */
  private through = 0;
  /** Tickets above `through` that are done already (they gave up, out of turn). */
  private readonly early = new Set<number>();
  /** Calls waiting for their turn, by ticket. */
  private readonly waiting = new Map<number, () => void>();

  take(): number {
    return this.issued++;
  }

  /** Null when `ticket` may send now; else a promise of its turn. */
  turn(ticket: number): Promise<void> | null {
    if (ticket === this.through) return null;
    return new Promise((resolve) => this.waiting.set(ticket, resolve));
  }

  /** `ticket` has sent, or never will: the next may go. Safe to call twice. */
  done(ticket: number): void {
    if (ticket < this.through) return;
    this.early.add(ticket);
    while (this.early.delete(this.through)) this.through++;
    const next = this.waiting.get(this.through);
    if (next) {
      this.waiting.delete(this.through);
      next();
    }
  }
}
