// Fully connected layer, pointwise activations and the two losses of the linear and MLP
// models, as paired forward/backward free functions templated on the scalar (float to train,
// double for finite-difference checks). Shapes: x (in, B), W (out, in), b (out), y (out, B).
#pragma once

#include <cmath>
#include <numbers>
#include <span>
#include <string>

#include "core/base/errors.h"
#include "core/base/types.h"

namespace h158 {

// y = W x + b 1ᵀ
template <typename T>
void denseForward(Mat<T>& y, const Mat<T>& x, const CMapMat<T>& W, const CMapVec<T>& b) {
    y.noalias() = W * x;
    y.colwise() += b;
}

// dL/dW += dY xᵀ,  dL/db += dY 1,  dL/dx = Wᵀ dY (overwritten; skipped when dx is null).
template <typename T>
void denseBackward(Mat<T>* dx, MapMat<T> dW, MapVec<T> db, const Mat<T>& dy, const Mat<T>& x,
                   const CMapMat<T>& W) {
    dW.noalias() += dy * x.transpose();
    db += dy.rowwise().sum();
    if (dx) dx->noalias() = W.transpose() * dy;
}

enum class Activation { Relu, Tanh, Gelu };

inline Activation parseActivation(const std::string& s) {
    if (s == "relu") return Activation::Relu;
    if (s == "tanh") return Activation::Tanh;
    if (s == "gelu") return Activation::Gelu;
    throw ConfigError("model.activation must be relu | tanh | gelu, got '" + s + "'");
}

// Exact GELU: x Φ(x), Φ the standard normal CDF.
template <typename T>
T geluScalar(T x) {
    return T(0.5) * x * (T(1) + std::erf(x / std::numbers::sqrt2_v<T>));
}
// d/dx [x Φ(x)] = Φ(x) + x φ(x)
template <typename T>
T geluGradScalar(T x) {
    const T cdf = T(0.5) * (T(1) + std::erf(x / std::numbers::sqrt2_v<T>));
    const T pdf = std::exp(T(-0.5) * x * x) / std::sqrt(T(2) * std::numbers::pi_v<T>);
    return cdf + x * pdf;
}

template <typename T>
void activationForward(Mat<T>& a, const Mat<T>& z, Activation f) {
    switch (f) {
    case Activation::Relu: a = z.cwiseMax(T(0)); break;
    case Activation::Tanh: a = z.array().tanh().matrix(); break;
    case Activation::Gelu: a = z.unaryExpr([](T v) { return geluScalar(v); }); break;
    }
}

// dz = da ⊙ f'(z); for tanh f'(z) = 1 - a² uses the cached output a.
template <typename T>
void activationBackward(Mat<T>& dz, const Mat<T>& da, const Mat<T>& z, const Mat<T>& a,
                        Activation f) {
    switch (f) {
    case Activation::Relu: dz = (z.array() > T(0)).select(da, T(0)); break;
    case Activation::Tanh: dz = da.cwiseProduct((T(1) - a.array().square()).matrix()); break;
    case Activation::Gelu:
        dz = da.cwiseProduct(z.unaryExpr([](T v) { return geluGradScalar(v); }));
        break;
    }
}

// Mean squared error L = 1/(B·K) Σ (ŷ − y)²; dŷ = 2(ŷ − y)/(B·K).
// sampleLoss (optional, B entries) gets each sample's mean over its K outputs.
template <typename T>
double mseForwardBackward(const Mat<T>& yhat, const Mat<float>& y, Mat<T>* dyhat,
                          std::span<float> sampleLoss = {}) {
    const Mat<T> diff = yhat - y.cast<T>();
    const double n = double(diff.size());
    if (dyhat) *dyhat = diff * T(2.0 / n);
    if (!sampleLoss.empty())
        for (Eigen::Index j = 0; j < diff.cols(); ++j)
            sampleLoss[size_t(j)] = float(diff.col(j).squaredNorm() / double(diff.rows()));
    return double(diff.squaredNorm()) / n;
}

// Softmax cross-entropy over logits (C, B) and labels; L = mean −log p(label);
// dlogits = (softmax − onehot)/B. Returns the loss; *correct counts argmax hits.
template <typename T>
double softmaxXentForwardBackward(const Mat<T>& logits, std::span<const int32_t> labels,
                                  Mat<T>* dlogits, int64_t* correct,
                                  std::span<float> sampleLoss = {}) {
    const Eigen::Index C = logits.rows(), B = logits.cols();
    if (dlogits) dlogits->resize(C, B);
    double total = 0;
    int64_t hits = 0;
    for (Eigen::Index j = 0; j < B; ++j) {
        Eigen::Index arg;
        const T mx = logits.col(j).maxCoeff(&arg);
        const Vec<T> e = (logits.col(j).array() - mx).exp().matrix();
        const T sum = e.sum();
        const int32_t lab = labels[size_t(j)];
        const double lj = -(double(logits(lab, j) - mx) - std::log(double(sum)));
        total += lj;
        hits += (arg == lab);
        if (!sampleLoss.empty()) sampleLoss[size_t(j)] = float(lj);
        if (dlogits) {
            dlogits->col(j) = e / sum;
            (*dlogits)(lab, j) -= T(1);
        }
    }
    if (dlogits) *dlogits /= T(B);
    if (correct) *correct = hits;
    return total / double(B);
}

}  // namespace h158
