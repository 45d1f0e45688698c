// Learning-rate and weight-decay schedules: factors that multiply optim.lr and
// optim.weight_decay at each step.
//
// Notation: s = 0-based step, T = total steps, W = optim.warmup, ρ = optim.min_lr_ratio.
// Every schedule starts with the same linear warmup: lr(s) = (s + 1)/W for s < W (so the first
// step is not a zero step and step W−1 reaches the peak 1).
//
// constant:  lr(s) = 1 after warmup;  wd(s) = 1.
// cosine:    p = (s − W)/max(1, T − 1 − W) ∈ [0, 1];  lr(s) = ρ + (1 − ρ)·½(1 + cos πp),
//            so lr(W) = 1 and lr(T − 1) = ρ;  wd(s) = 1.
// two_stage: BitNet b1.58's recipe (Ma et al., "The Era of 1-bit LLMs: Training Tips, Code and
//            FAQ", 2024; BitNet b1.58 2B4T report, 2025): a high-lr first stage, then an abrupt
//            drop at the midpoint and a low-lr second stage without weight decay. Their run
//            decayed 1.5e-3 → 8e-4 linearly in stage 1 and 5e-4 → 0 in stage 2, with weight
//            decay 0.1 in stage 1 and 0 in stage 2. Here, with H = ⌈T/2⌉ (stage 2 is [H, T)):
//   stage 1 (s < H), after warmup:
//            lr(s) = 1 − (1 − e)·(s − W)/max(1, H − W),  e = (1 + ρ)/2,
//            a linear decay from the peak 1 at s = W towards e at s = H (BitNet: 0.53);
//            wd(s) = ½(1 + cos(π s/H)), cosine from 1 towards 0 over the stage.
//   stage 2 (s ≥ H):
//            lr(s) = ρ·(1 − 0.9·(s − H)/max(1, T − 1 − H)), so lr drops from ≈ e to ρ at H
//            (BitNet: 0.33) and decays linearly to the floor 0.1·ρ at the last step (a floor,
//            not 0, so the last step still moves);  wd(s) = 0.
//   The warmup takes precedence over both stages' lr formulas (wd follows the stage).
#pragma once

#include <cstdint>

#include "core/config/config.h"

namespace h158 {

struct ScheduleFactors {
    double lr = 1;  // multiplies optim.lr
    double wd = 1;  // multiplies optim.weight_decay (Optimizer::propose's wdScale)
};

// The factors at 0-based `step` of `totalSteps`. Throws ConfigError naming optim.schedule for
// an unknown schedule, Error when totalSteps < 1 or step is outside [0, totalSteps).
ScheduleFactors scheduleAt(const OptimConfig& cfg, int64_t step, int64_t totalSteps);

// Whether the multiplier the auxiliary NN sets is applied as max(m_t, 1): the network is on,
// aux.keep_decay, and the schedule decays (every one but constant). The trainer applies it; the
// learning-rate panel says so.
bool auxFloorsMultiplier(const Config& cfg);

}  // namespace h158
