// The trust-region projection of one step: Δ is kept when ‖Δ‖₂ ≤ r and otherwise scaled back
// onto the sphere of radius r, which is the exact solution of min ‖Δ' − Δ‖₂ s.t. ‖Δ'‖₂ ≤ r.
// Two regions (trust.mode):
//   global  ‖ΔΘ‖₂ ≤ r over the whole parameter vector, r absolute (the original system's);
//   tensor  ‖ΔΘ_i‖₂ ≤ r ‖Θ_i‖₂ for every matrix i, r relative. One r then means the same for
//           every layer and every model size (a global ball of radius r allows each of n
//           parameters about r/√n, so its r must change with the model), and a binding region
//           shortens only the tensors that would move too far: the others keep the step that
//           the learning rate, its schedule and the multiplier gave them. Vectors (biases,
//           LayerNorm gains and biases) are not constrained: their norm is no measure of their
//           scale (a bias starts at zero).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/model/params.h"

namespace h158 {

struct Projection {
    double normBefore = 0;     // ‖Δ‖₂ as proposed (double, vector_ops order)
    double normAfter = 0;      // ‖Δ‖₂ as returned; ≤ radius whenever constrained
    bool constrained = false;  // true exactly when the step was shortened
};

// If ‖Δ‖₂ > r: Δ ← s·Δ with one float factor s ≈ r/‖Δ‖₂ for every element (so the direction
// is kept exactly up to the rounding of each product), constrained = true. s is r/‖Δ‖₂ rounded
// to float and then lowered by two ulps, which guarantees normAfter ≤ r as measured in double
// (each product's rounding adds at most one half ulp); normAfter ≥ r·(1 − 2⁻²¹).
// If ‖Δ‖₂ ≤ r, Δ is left untouched bit for bit. A radius of +inf never constrains.
// A non-finite ‖Δ‖₂ leaves Δ untouched with constrained = false: the caller detects it
// (normBefore is not finite) and stops the run. Throws Error when r is NaN or ≤ 0.
// Also serves as gradient clipping by norm (projectToBall(g, optim.grad_clip)).
Projection projectToBall(std::span<float> delta, double radius);

// The per-tensor region: each matrix of `layout` (cols > 1) is projected with projectToBall
// onto ‖Δ_i‖ ≤ r ‖Θ_i‖ (Θ = params before the step). A matrix with ‖Θ_i‖ = 0 is not
// constrained. Throws Error when r is NaN or ≤ 0.
struct TensorProjection {
    std::vector<uint8_t> constrained;  // per tensor of the layout: its step was shortened
    double normBefore = 0;             // ‖Δ‖₂ of the whole step, as proposed
    double normAfter = 0;              // and as returned
    double fraction = 0;               // parameters of shortened tensors / of all matrices
    double maxRatio = 0;               // max over matrices of ‖Δ_i‖ / ‖Θ_i‖ as proposed
    bool any = false;                  // some tensor was shortened
};
TensorProjection projectPerTensor(std::span<float> delta, std::span<const float> params,
                                  const ParamLayout& layout, double radius);

}  // namespace h158
