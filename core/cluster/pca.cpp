// 2-D PCA through the eigen-decomposition of the covariance matrix (in double).
// GCC 12.2's AVX-512 headers seed some intrinsics with a self-initialised "undefined" vector that
// -Wmaybe-uninitialized reports once Eigen's GEMM inlines them (GCC bug 105593, fixed in 12.3).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "core/cluster/pca.h"
#include "core/base/errors.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <string>

namespace h158 {

MatF Pca2d::project(const MatF& y) const {
    if (y.rows() != mean.size())
        throw Error("pca: cannot project points with " + std::to_string(y.rows()) +
                    " features with a map fitted on " + std::to_string(mean.size()));
    const MatD dev = y.cast<double>().colwise() - mean.cast<double>();
    return (components.cast<double>().transpose() * dev).cast<float>();
}

Pca2d fitPca2d(const MatF& x) {
    const int64_t f = x.rows(), n = x.cols();
    if (f == 0 || n == 0)
        throw Error("pca: the data matrix is empty (" + std::to_string(f) + " features x " +
                    std::to_string(n) + " samples)");
    if (!x.allFinite()) throw Error("pca: the data contain a non-finite value");
    const MatD xd = x.cast<double>();
    const VecD mean = xd.rowwise().mean();
    const MatD dev = xd.colwise() - mean;  // (F, N)
    Pca2d p;
    if (f <= 2) {
        p.mean = VecF::Zero(f);
        p.components = MatF::Identity(f, 2);
        p.coords = MatF::Zero(2, n);
        p.coords.topRows(f) = x;
        for (int64_t q = 0; q < f; ++q) p.variance[q] = dev.row(q).squaredNorm() / double(n);
        return p;
    }
    const MatD cov = dev * dev.transpose() / double(n);  // (F, F)
    const Eigen::SelfAdjointEigenSolver<MatD> eig(cov);
    if (eig.info() != Eigen::Success) throw Error("pca: the eigen-decomposition failed");
    MatD comp(f, 2);
    for (int c = 0; c < 2; ++c) {
        VecD v = eig.eigenvectors().col(f - 1 - c);  // eigenvalues ascend
        Eigen::Index at = 0;
        v.cwiseAbs().maxCoeff(&at);
        if (v[at] < 0) v = -v;
        comp.col(c) = v;
        p.variance[c] = std::max(0.0, eig.eigenvalues()[f - 1 - c]);
    }
    p.mean = mean.cast<float>();
    p.components = comp.cast<float>();
    p.coords = (comp.transpose() * dev).cast<float>();
    return p;
}

}  // namespace h158
