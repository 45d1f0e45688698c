// The model interface the trainer drives. A model owns its parameter layout; the trainer owns
// the flat parameter, gradient and quantized-weight buffers and hands them in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/data/batch.h"
#include "core/model/params.h"
#include "core/base/rng.h"
#include "core/quant/weight_quantizer.h"

namespace h158 {

struct Config;
class Dataset;
struct DataShape;

// Quantized form of the model's tensors, indexed like ParamLayout (entries of unquantized
// tensors are empty). Filled by the trainer before each forward pass.
struct QuantState {
    std::vector<QuantizedTensor> tensors;
    bool activationsInt8 = false;  // BitLinear inputs quantized to 8 bits (per sample absmax)
    std::string kernel = "auto";   // auto | reference | float (how BitLinear multiplies)
    // GPT BitLinear backward (quant.backward=int8): the input gradient W~ᵀ dY on the integer
    // kernel, with dY quantized per token to int8 absmax, for the tensors whose forward runs on
    // the integer kernel; the weight gradient stays fp32 (SwitchBack, Wortsman et al. 2023).
    bool int8Backward = false;
};

struct LossInfo {
    double loss = 0;                  // mean over samples (tokens for gpt)
    double accuracy = -1;             // classification / next-token accuracy, -1 when n/a
    std::vector<float> sampleLoss;    // (B) per-sample loss, filled when asked
};

class Model {
public:
    virtual ~Model() = default;
    const ParamLayout& layout() const { return m_layout; }
    virtual std::string describe() const = 0;
    virtual void init(float* w, Rng& rng) const = 0;

    // Mean loss of the batch under weights `w` (quantized tensors hold their dequantized values;
    // q is null when quantization is off). With grad non-null, writes dLoss/dw there (overwrite,
    // the whole flat vector). With wantSampleLoss, fills LossInfo::sampleLoss.
    virtual LossInfo forwardBackward(const float* w, const QuantState* q, const Batch& b,
                                     float* grad, bool wantSampleLoss = false) = 0;

    // The model's representation of training samples for data re-clustering: (F, n) for the
    // given training indices. Default: empty (keep the dataset's own features).
    virtual MatF representation(const float* w, const QuantState* q, const Dataset& data,
                                std::span<const int64_t> indices);

    // Class probabilities (classes, N) for inputs x (inputDim, N); classification only.
    virtual MatF predictProba(const float* w, const QuantState* q, const MatF& x);

protected:
    ParamLayout m_layout;
};

std::unique_ptr<Model> makeModel(const Config& cfg, const DataShape& data);

}  // namespace h158
