// The linear model (one dense layer: the seed's model) and the multi-layer perceptron, with
// quantization-aware dense layers: the forward pass reads the effective (dequantized) weights
// the trainer prepared, backward hands the gradient straight through to the latent weights.
#pragma once

#include <vector>

#include "core/model/dense.h"
#include "core/model/model.h"

namespace h158 {

struct MlpShape {
    std::vector<int64_t> widths;  // input, hidden..., output
    Activation activation = Activation::Relu;
    bool classification = false;
    std::vector<bool> actQuant;   // per dense layer: int8 absmax on its input (straight-through)
};

class MlpModel : public Model {
public:
    // hidden layers = 0 gives the linear model.
    MlpModel(const MlpShape& shape, const std::vector<bool>& quantized);
    std::string describe() const override;
    void init(float* w, Rng& rng) const override;
    LossInfo forwardBackward(const float* w, const QuantState* q, const Batch& b, float* grad,
                             bool wantSampleLoss) override;
    MatF representation(const float* w, const QuantState* q, const Dataset& data,
                        std::span<const int64_t> indices) override;
    MatF predictProba(const float* w, const QuantState* q, const MatF& x) override;
    // Every layer's output for inputs x (inputDim, N), through the same forward pass as training
    // (for the network view): entry l is (widths[l+1], N), the hidden layers after the
    // activation, the last layer's class probabilities (softmax; classification) or values.
    std::vector<MatF> layerOutputs(const float* w, const MatF& x) const;

    // The same computation in any scalar type (double for the gradient check). `layers`, when
    // given, receives every layer's output (hidden after the activation, the last as logits).
    template <typename T>
    LossInfo run(const T* w, const Batch& b, T* grad, bool wantSampleLoss,
                 Mat<T>* lastHidden = nullptr, Mat<T>* output = nullptr,
                 std::vector<Mat<T>>* layers = nullptr) const;

    const MlpShape& shape() const { return m_shape; }
    int layerCount() const { return int(m_shape.widths.size()) - 1; }
    int weightIndex(int layer) const { return 2 * layer; }
    int biasIndex(int layer) const { return 2 * layer + 1; }

private:
    MlpShape m_shape;
};

std::unique_ptr<Model> makeMlpModel(const Config& cfg, const DataShape& data);

}  // namespace h158
