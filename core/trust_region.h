// The trust-region projection of one step: Δ is kept when ‖Δ‖₂ ≤ r and otherwise scaled back
// onto the sphere of radius r, which is the exact solution of min ‖Δ' − Δ‖₂ s.t. ‖Δ'‖₂ ≤ r.
#pragma once

#include <span>

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

}  // namespace h158
