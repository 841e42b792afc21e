import type { TrainerEvent } from "@attn/core";

const BAR = 24;

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--:--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h ? `${h}:` : ""}${String(m).padStart(h ? 2 : 1, "0")}:${String(r).padStart(2, "0")}`;
}

/**
 * A training progress display. On a terminal it redraws one line per step (epoch, bar, step, loss as an
 * exponential moving average, throughput, ETA); elsewhere (CI logs) it prints one line per epoch.
 */
export class ProgressBar {
  private start = Date.now();
  private examples = 0;
  private ema: number | undefined;
  private drawn = false;

  constructor(
    private readonly write: (s: string) => void,
    private readonly live: boolean,
    private readonly epochs: number,
    private readonly totalSteps: number,
    private readonly firstStep: number,
    /** Training time a resumed run had already spent: the epoch lines' clock goes on from it. */
    private readonly secondsBefore = 0,
  ) {}

  update(e: TrainerEvent): void {
    if (e.type === "step") {
      this.examples += e.examples;
      this.ema = this.ema === undefined ? e.loss : 0.9 * this.ema + 0.1 * e.loss;
      if (!this.live) return;
      const elapsed = (Date.now() - this.start) / 1000;
      const done = e.step - this.firstStep;
      const eta = done > 0 ? (elapsed / done) * (this.totalSteps - e.step) : Infinity;
      const filled = Math.round((e.batch / e.batches) * BAR);
      const line = `epoch ${e.epoch + 1}/${this.epochs} ▕${"█".repeat(filled)}${" ".repeat(BAR - filled)}▏ ${e.batch}/${e.batches}  loss ${this.ema.toFixed(4)}  ${(this.examples / Math.max(elapsed, 1e-3)).toFixed(0)} ex/s  ETA ${clock(eta)}`;
      this.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else if (e.type === "epoch") {
      const metrics = Object.entries(e.metrics).map(([k, v]) => `  ${k} ${v.toFixed(4)}`).join("");
      const elapsed = this.secondsBefore + (Date.now() - this.start) / 1000;
      this.write(`${this.drawn ? "\r\x1b[K" : ""}epoch ${e.epoch + 1}/${this.epochs}  train_loss ${e.trainLoss.toFixed(4)}${metrics}  (${clock(elapsed)})\n`);
      this.drawn = false;
    } else if (e.type === "early_stop") {
      this.write(`early stop after epoch ${e.epoch + 1}: best ${e.best.toFixed(4)}\n`);
    }
  }
}
