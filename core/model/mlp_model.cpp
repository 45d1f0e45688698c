// Linear / MLP forward and backward (hand-written), initialisation and the model factory.
#include "core/model/mlp_model.h"

#include <cmath>

#include "core/config/config.h"
#include "core/data/dataset.h"
#include "core/quant/activation_quantizer.h"

namespace h158 {
namespace {

// BitNet's per-sample 8-bit absmax fake quantization (activation_quantizer.h): x~ = code * (1/s).
// Backward is the identity (straight-through).
template <typename T>
void fakeQuantInt8(Mat<T>& x) {
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
        const T s = int8AbsmaxCodes(x.col(j).data(), x.rows(), x.col(j).data());
        x.col(j) *= T(1) / s;
    }
}

// Each column of logits z to probabilities: softmax(z) = exp(z - max z) / sum exp(z - max z).
void softmaxColumns(MatF& z) {
    for (Eigen::Index j = 0; j < z.cols(); ++j) {
        const VecF e = (z.col(j).array() - z.col(j).maxCoeff()).exp().matrix();
        z.col(j) = e / e.sum();
    }
}

// The batch predictProba and layerOutputs run: inputs x, labels unused (0).
Batch inputBatch(const MatF& x) {
    Batch b;
    b.x = x;
    b.size = x.cols();
    b.labels.assign(size_t(b.size), 0);
    return b;
}

}  // namespace

MlpModel::MlpModel(const MlpShape& shape, const std::vector<bool>& quantized) : m_shape(shape) {
    if (m_shape.actQuant.empty()) m_shape.actQuant.assign(size_t(layerCount()), false);
    for (int l = 0; l < layerCount(); ++l) {
        const auto in = m_shape.widths[size_t(l)], out = m_shape.widths[size_t(l) + 1];
        m_layout.add("dense" + std::to_string(l) + ".weight", out, in, quantized[size_t(l)]);
        m_layout.add("dense" + std::to_string(l) + ".bias", out, 1, false, false);
    }
}

std::string MlpModel::describe() const {
    std::string s = layerCount() == 1 ? "linear " : "mlp ";
    for (size_t i = 0; i < m_shape.widths.size(); ++i)
        s += (i ? "-" : "") + std::to_string(m_shape.widths[i]);
    return s + " (" + std::to_string(m_layout.size()) + " parameters)";
}

void MlpModel::init(float* w, Rng& rng) const {
    // He init for relu/gelu, LeCun (Xavier-like) for tanh and the linear model; zero biases.
    for (int l = 0; l < layerCount(); ++l) {
        const auto& t = m_layout[weightIndex(l)];
        const bool relu = m_shape.activation != Activation::Tanh && layerCount() > 1;
        const double std = std::sqrt((relu ? 2.0 : 1.0) / double(t.cols));
        for (int64_t i = 0; i < t.size(); ++i) w[t.offset + i] = float(rng.normal(0.0, std));
        const auto& b = m_layout[biasIndex(l)];
        std::fill(w + b.offset, w + b.offset + b.size(), 0.0f);
    }
}

template <typename T>
LossInfo MlpModel::run(const T* w, const Batch& b, T* grad, bool wantSampleLoss,
                       Mat<T>* lastHidden, Mat<T>* output, std::vector<Mat<T>>* layers) const {
    const int L = layerCount();
    const auto nl = static_cast<size_t>(L);
    std::vector<Mat<T>> in(nl), z(nl), a(nl);  // in_l (w_l, B), z_l (w_{l+1}, B), a_l = f(z_l)
    Mat<T> cur = b.x.cast<T>();
    for (int l = 0; l < L; ++l) {
        in[size_t(l)] = std::move(cur);
        if (m_shape.actQuant[size_t(l)]) fakeQuantInt8(in[size_t(l)]);
        const auto W = m_layout.view(w, weightIndex(l));
        const auto& bt = m_layout[biasIndex(l)];
        denseForward<T>(z[size_t(l)], in[size_t(l)], W, CMapVec<T>(w + bt.offset, bt.rows));
        if (l + 1 < L) {
            activationForward(a[size_t(l)], z[size_t(l)], m_shape.activation);
            cur = a[size_t(l)];
        }
    }
    if (lastHidden) *lastHidden = L > 1 ? a[size_t(L) - 2] : in[0];
    if (output) *output = z[size_t(L) - 1];
    if (layers) {
        layers->assign(a.begin(), a.end() - 1);
        layers->push_back(z.back());
    }

    LossInfo info;
    std::vector<float> sl(wantSampleLoss ? size_t(b.size) : 0);
    Mat<T> dz;
    if (m_shape.classification) {
        int64_t correct = 0;
        info.loss = softmaxXentForwardBackward<T>(z.back(), b.labels, grad ? &dz : nullptr,
                                                  &correct, sl);
        info.accuracy = double(correct) / double(b.size);
    } else {
        info.loss = mseForwardBackward<T>(z.back(), b.y, grad ? &dz : nullptr, sl);
    }
    info.sampleLoss = std::move(sl);
    if (!grad) return info;

    std::fill(grad, grad + m_layout.size(), T(0));
    Mat<T> da;
    for (int l = L - 1; l >= 0; --l) {
        const auto& wt = m_layout[weightIndex(l)];
        const auto& bt = m_layout[biasIndex(l)];
        denseBackward<T>(l > 0 ? &da : nullptr, m_layout.view(grad, weightIndex(l)),
                         MapVec<T>(grad + bt.offset, bt.rows), dz, in[size_t(l)],
                         CMapMat<T>(w + wt.offset, wt.rows, wt.cols));
        if (l > 0) activationBackward(dz, da, z[size_t(l) - 1], a[size_t(l) - 1], m_shape.activation);
    }
    return info;
}

template LossInfo MlpModel::run<float>(const float*, const Batch&, float*, bool, MatF*, MatF*,
                                       std::vector<MatF>*) const;
template LossInfo MlpModel::run<double>(const double*, const Batch&, double*, bool, MatD*, MatD*,
                                        std::vector<MatD>*) const;

LossInfo MlpModel::forwardBackward(const float* w, const QuantState*, const Batch& b,
                                   float* grad, bool wantSampleLoss) {
    return run<float>(w, b, grad, wantSampleLoss);
}

MatF MlpModel::representation(const float* w, const QuantState*, const Dataset& data,
                              std::span<const int64_t> indices) {
    // MLP: the last hidden layer. Linear model: the joint space (input, prediction), so the
    // clusters follow what the model maps each sample to.
    Rng unused;
    const Batch b = data.trainBatch(indices, unused);
    MatF hidden, out;
    run<float>(w, b, nullptr, false, &hidden, &out);
    if (layerCount() > 1) return hidden;
    MatF joint(hidden.rows() + out.rows(), hidden.cols());
    joint << hidden, out;
    return joint;
}

MatF MlpModel::predictProba(const float* w, const QuantState*, const MatF& x) {
    MatF out;
    run<float>(w, inputBatch(x), nullptr, false, nullptr, &out);
    softmaxColumns(out);
    return out;
}

std::vector<MatF> MlpModel::layerOutputs(const float* w, const MatF& x) const {
    Batch b = inputBatch(x);
    if (!m_shape.classification) b.y = MatF::Zero(m_shape.widths.back(), x.cols());
    std::vector<MatF> out;
    run<float>(w, b, nullptr, false, nullptr, nullptr, &out);
    if (m_shape.classification) softmaxColumns(out.back());
    return out;
}

std::unique_ptr<Model> makeMlpModel(const Config& cfg, const DataShape& data) {
    MlpShape s;
    s.classification = data.task == Task::Classification;
    s.activation = parseActivation(cfg.model.activation);
    s.widths.push_back(data.inputDim);
    if (cfg.model.kind == "mlp")
        for (int64_t i = 0; i < cfg.model.depth; ++i) s.widths.push_back(cfg.model.hidden);
    s.widths.push_back(data.outputDim);
    const int L = int(s.widths.size()) - 1;
    const bool quant = cfg.quant.weights != "none";
    std::vector<bool> q(static_cast<size_t>(L), quant);
    if (quant && L > 1 && !cfg.quant.io_layers) q.front() = q.back() = false;
    for (int l = 0; l < L; ++l)
        s.actQuant.push_back(q[size_t(l)] && cfg.quant.activations == "int8");
    return std::make_unique<MlpModel>(s, q);
}

}  // namespace h158
