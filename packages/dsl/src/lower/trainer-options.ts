import { makeSchedule, type LrSchedule, type TrainerOptions } from "@attn/core";
import type { TrainConfig } from "./train-config.js";

/** The learning-rate schedule a `train { }` section asks for, over a run of `totalSteps` steps. */
export function scheduleOf(cfg: TrainConfig, totalSteps: number): LrSchedule {
  const s = cfg.schedule;
  if (!s || s.kind === "constant") return s?.warmup ? { kind: "warmup", warmupSteps: s.warmup } : { kind: "constant" };
  return { kind: s.kind, warmupSteps: s.warmup, totalSteps };
}

/**
 * Trainer options (loss, optimizer, clipping, freezing, schedule, seed) from a model's `train { }` section,
 * for a run of `totalSteps` steps; callers add weights, groups and overrides.
 */
export function trainerOptions(cfg: TrainConfig, totalSteps: number): TrainerOptions {
  return {
    loss: cfg.loss,
    optimizer: cfg.optimizer,
    ...(cfg.clipNorm !== undefined ? { clipNorm: cfg.clipNorm } : {}),
    ...(cfg.freeze ? { freeze: cfg.freeze } : {}),
    schedule: makeSchedule(scheduleOf(cfg, totalSteps)),
    seed: cfg.seed ?? 0,
  };
}
