// The trust-region projection (see trust_region.h for the guarantees).
#include "core/optim/trust_region.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/base/errors.h"
#include "core/base/types.h"
#include "core/base/vector_ops.h"

namespace h158 {

namespace {

void scaleInPlace(std::span<float> x, float s) {
    float* p = x.data();
    const size_t n = x.size();
    for (size_t i = 0; i < n; ++i) p[i] *= s;
}

}  // namespace

TensorProjection projectPerTensor(std::span<float> delta, std::span<const float> params,
                                  const ParamLayout& layout, double radius) {
    if (!(radius > 0)) throw Error("projectPerTensor: radius must be > 0, got " + formatNumber(radius));
    if (delta.size() != size_t(layout.size()) || params.size() != size_t(layout.size()))
        throw Error("projectPerTensor: vectors of " + std::to_string(delta.size()) + " and " +
                    std::to_string(params.size()) + " values for a layout of " +
                    std::to_string(layout.size()));
    TensorProjection p;
    p.constrained.assign(size_t(layout.count()), 0);
    double before2 = 0, after2 = 0;
    int64_t matrices = 0, shortened = 0;
    for (int i = 0; i < layout.count(); ++i) {
        const ParamTensor& t = layout[i];
        const std::span<float> d = delta.subspan(size_t(t.offset), size_t(t.size()));
        if (t.cols == 1) {
            const double n = l2Norm(d);
            before2 += n * n;
            after2 += n * n;
            continue;
        }
        matrices += t.size();
        const double bound = radius * l2Norm(params.subspan(size_t(t.offset), size_t(t.size())));
        Projection q;
        if (bound > 0) {
            q = projectToBall(d, bound);
            p.maxRatio = std::max(p.maxRatio, q.normBefore / (bound / radius));
        } else {
            q.normBefore = q.normAfter = l2Norm(d);
        }
        before2 += q.normBefore * q.normBefore;
        after2 += q.normAfter * q.normAfter;
        if (q.constrained) {
            p.constrained[size_t(i)] = 1;
            p.any = true;
            shortened += t.size();
        }
    }
    p.normBefore = std::sqrt(before2);
    p.normAfter = std::sqrt(after2);
    p.fraction = matrices > 0 ? double(shortened) / double(matrices) : 0.0;
    return p;
}

Projection projectToBall(std::span<float> delta, double radius) {
    if (!(radius > 0)) throw Error("projectToBall: radius must be > 0, got " + formatNumber(radius));
    Projection p;
    p.normBefore = l2Norm(delta);
    p.normAfter = p.normBefore;
    if (!std::isfinite(p.normBefore) || p.normBefore <= radius) return p;

    // float(r/‖Δ‖) may round up by half an ulp and each product s·Δᵢ may round up by another
    // half ulp; two ulps down absorb both, so the result lands inside the ball, not on its far
    // side. A subnormal-range underflow of s cannot occur: r > 0 and ‖Δ‖ is finite, and if
    // r/‖Δ‖ is below the float range the step collapses to zero, which is inside the ball.
    float s = float(radius / p.normBefore);
    s = std::nextafter(std::nextafter(s, 0.0f), 0.0f);
    scaleInPlace(delta, s);
    p.normAfter = l2Norm(delta);
    // Two ulps down leave a margin of at least 2⁻⁴⁸ relative (about 2⁻²³ typically); the double
    // norm's own rounding could in principle exceed the worst case, so check as measured and
    // shrink once more by the measured ratio if it ever does.
    if (p.normAfter > radius) {
        scaleInPlace(delta, std::nextafter(float(radius / p.normAfter), 0.0f));
        p.normAfter = l2Norm(delta);
    }
    p.constrained = true;
    return p;
}

}  // namespace h158
