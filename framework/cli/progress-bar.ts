import { formatDuration } from './format.js';
import type { Io } from './io.js';

/**
 * A progress bar on stderr. On a terminal it redraws in place (at most every 80 ms);
 * elsewhere (logs, CI, tests) it prints a plain line at each 10 % step, so output stays
 * readable when captured. `log()` prints a line above the bar without tearing it.
 *
 * @example
 * const bar = new ProgressBar(io, 200, 'tasks');
 * bar.update(50, '2 retried');   // [██████░░░░░░░░░░░░░░░░░░]  25% 50/200 tasks · 2 retried · 0.4 s
 * bar.done();
 */
export class ProgressBar {
  private current = 0;
  private extra = '';
  private lastDraw = 0;
  private lastStep = -1;
  private drawn = false;
  private readonly started = performance.now();

  constructor(private readonly io: Io, private total: number, private readonly unit: string, private readonly width = 24) {}

  /** Sets how much is done (and an optional note such as "3 retried"). */
  update(current: number, extra = this.extra): void {
    this.current = current;
    this.extra = extra;
    if (this.io.errIsTTY) {
      const now = performance.now();
      if (now - this.lastDraw >= 80 || current >= this.total) this.draw();
    } else {
      const step = this.total === 0 ? 10 : Math.floor((current / this.total) * 10);
      if (step > this.lastStep) {
        this.lastStep = step;
        this.io.err(this.render() + '\n');
      }
    }
  }

  /** Changes the total (e.g. when more tasks are read from stdin). */
  setTotal(total: number): void {
    this.total = total;
  }

  /** Prints a line above the bar. */
  log(line: string): void {
    if (this.io.errIsTTY && this.drawn) this.io.err('\r\x1b[K');
    this.io.err(line + '\n');
    if (this.io.errIsTTY && this.drawn) this.draw();
  }

  /** Draws the final state and moves past the bar. */
  done(): void {
    if (this.io.errIsTTY) {
      this.draw();
      this.io.err('\n');
    } else if (this.lastStep < 10 || this.current < this.total) {
      this.io.err(this.render() + '\n');
    }
  }

  render(): string {
    const ratio = this.total === 0 ? 1 : Math.min(1, this.current / this.total);
    const full = Math.round(ratio * this.width);
    const bar = '█'.repeat(full) + '░'.repeat(this.width - full);
    const pct = `${Math.floor(ratio * 100)}%`.padStart(4);
    const parts = [`[${bar}] ${pct} ${this.current}/${this.total} ${this.unit}`];
    if (this.extra) parts.push(this.extra);
    parts.push(formatDuration(performance.now() - this.started));
    return parts.join(' · ');
  }

  private draw(): void {
    this.lastDraw = performance.now();
    this.drawn = true;
    this.io.err('\r\x1b[K' + this.render());
  }
}
