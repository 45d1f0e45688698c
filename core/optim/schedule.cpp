// Learning-rate and weight-decay schedules (the formulas are in schedule.h).
#include "core/optim/schedule.h"
#include "core/base/errors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <string>

namespace h158 {

namespace {

// Linear position of s in [from, to], 0 at `from`, 1 at `to` (0 when the interval is empty).
double fraction(int64_t s, int64_t from, int64_t to) {
    return double(s - from) / double(std::max<int64_t>(1, to - from));
}

double cosineLr(int64_t s, int64_t total, int64_t warmup, double floorRatio) {
    const double p = std::clamp(fraction(s, warmup, total - 1), 0.0, 1.0);
    return floorRatio + (1.0 - floorRatio) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
}

ScheduleFactors twoStage(int64_t s, int64_t total, int64_t warmup, double rho) {
    const int64_t half = (total + 1) / 2;  // ⌈T/2⌉: stage 2 is [half, total)
    ScheduleFactors f;
    if (s < half) {
        const double stage1End = 0.5 * (1.0 + rho);
        f.lr = 1.0 - (1.0 - stage1End) * std::clamp(fraction(s, warmup, half), 0.0, 1.0);
        f.wd = 0.5 * (1.0 + std::cos(std::numbers::pi * double(s) / double(half)));
    } else {
        f.lr = rho * (1.0 - 0.9 * std::clamp(fraction(s, half, total - 1), 0.0, 1.0));
        f.wd = 0.0;
    }
    return f;
}

}  // namespace

bool auxFloorsMultiplier(const Config& cfg) {
    return cfg.aux.enabled && cfg.aux.keep_decay && cfg.optim.schedule != "constant";
}

ScheduleFactors scheduleAt(const OptimConfig& cfg, int64_t step, int64_t totalSteps) {
    if (totalSteps < 1)
        throw Error("scheduleAt: total steps must be >= 1, got " + std::to_string(totalSteps));
    if (step < 0 || step >= totalSteps)
        throw Error("scheduleAt: step " + std::to_string(step) + " is outside [0, " +
                    std::to_string(totalSteps) + ")");
    ScheduleFactors f;
    if (cfg.schedule == "constant") {
        f = {1.0, 1.0};
    } else if (cfg.schedule == "cosine") {
        f = {cosineLr(step, totalSteps, cfg.warmup, cfg.min_lr_ratio), 1.0};
    } else if (cfg.schedule == "two_stage") {
        f = twoStage(step, totalSteps, cfg.warmup, cfg.min_lr_ratio);
    } else {
        throw ConfigError("optim.schedule must be one of constant, cosine, two_stage, got \"" +
                          cfg.schedule + "\"");
    }
    if (step < cfg.warmup) f.lr = double(step + 1) / double(cfg.warmup);
    return f;
}

}  // namespace h158
