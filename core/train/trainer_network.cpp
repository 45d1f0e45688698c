// The "network" snapshot of a 2-D classification MLP (fields in trainer.h): every edge's code and
// latent weight, every unit's output over the input plane, for the network diagram.
#include <algorithm>
#include <cmath>

#include "core/model/mlp_model.h"
#include "core/train/trainer_impl.h"

namespace h158 {
namespace {

constexpr int kNetGrid = 24;  // cells per side of each unit's map (the boundary uses 64)

// One unit's outputs v over the plane as bytes b = round((v / scale + 1) / 2 * 255), two hex
// digits each: b / 255 is the position on a colour scale with zero in its middle, and v ≈
// (2b / 255 - 1) * scale. One short string per unit costs a small fraction of 576 JSON numbers to
// build, write and free, and a step of 1/255 of the scale is finer than a colour map shows.
nlohmann::json encodeMap(const MatF& out, Eigen::Index unit, double scale) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex(static_cast<size_t>(2 * out.cols()), '0');
    for (Eigen::Index j = 0; j < out.cols(); ++j) {
        const double t = scale > 0 ? std::clamp(double(out(unit, j)) / scale, -1.0, 1.0) : 0.0;
        const int b = int(std::lround((t + 1) / 2 * 255));
        hex[size_t(2 * j)] = digits[b >> 4];
        hex[size_t(2 * j + 1)] = digits[b & 15];
    }
    return {{"scale", scale}, {"q_hex", hex}};
}

}  // namespace

InputPlane inputPlane(const MatF& pts, int nx, int ny) {
    InputPlane p;
    const VecF lo = pts.rowwise().minCoeff(), hi = pts.rowwise().maxCoeff();
    const VecF pad = (hi - lo) * 0.08f;
    p.x0 = lo(0) - pad(0);
    p.x1 = hi(0) + pad(0);
    p.y0 = lo(1) - pad(1);
    p.y1 = hi(1) + pad(1);
    p.nx = nx;
    p.ny = ny;
    p.grid.resize(2, nx * ny);
    for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
            p.grid(0, iy * nx + ix) = p.x0 + (p.x1 - p.x0) * (ix + 0.5f) / nx;
            p.grid(1, iy * nx + ix) = p.y0 + (p.y1 - p.y0) * (iy + 0.5f) / ny;
        }
    return p;
}

Snapshot Trainer::Impl::networkSnapshot() {
    Snapshot s{step, "network", nlohmann::json::object()};
    const auto* mlp = dynamic_cast<const MlpModel*>(model.get());
    const MatF pts = data->trainInputs2d();
    if (!mlp || pts.size() == 0) return s;
    const ParamLayout& L = model->layout();
    const int layers = mlp->layerCount();

    // Edges: W_l (out, in), column-major, so the edge from input unit i to unit o of the next
    // layer is element o + i * out, its code the quantizer's and its latent weight Θ's.
    nlohmann::json weights = nlohmann::json::array();
    for (int l = 0; l < layers; ++l) {
        const int ti = mlp->weightIndex(l);
        const ParamTensor& t = L[ti];
        const float* w = params.data() + t.offset;
        const QuantLevels lv = tensorLevels[size_t(ti)];
        nlohmann::json j = {{"name", t.name}, {"rows", t.rows}, {"cols", t.cols},
                            {"level_set", quantLevelsName(lv)},
                            {"latent", std::vector<float>(w, w + t.size())}};
        if (lv != QuantLevels::None) {
            const QuantizedTensor& q = quant.tensors[size_t(ti)];
            j["codes"] = q.codes;
            j["scale"] = double(q.rowScale.mean());
        }
        weights.push_back(std::move(j));
    }

    // Units: the model's own forward pass with the weights it trains with (quantized tensors
    // dequantized), over the same plane as the boundary, coarser.
    const InputPlane plane = inputPlane(pts, kNetGrid, kNetGrid);
    const std::vector<MatF> outs = mlp->layerOutputs(effective.data(), plane.grid);
    nlohmann::json maps = nlohmann::json::array();
    for (int l = 0; l < layers; ++l) {
        const MatF& out = outs[size_t(l)];
        const bool last = l + 1 == layers;
        nlohmann::json units = nlohmann::json::array();
        for (Eigen::Index u = 0; u < out.rows(); ++u) {
            // hidden units: scaled to their largest |output| over the plane; class probabilities
            // keep their absolute scale, 1
            const double scale = last && mlp->shape().classification
                                     ? 1.0
                                     : double(out.row(u).cwiseAbs().maxCoeff());
            units.push_back(encodeMap(out, u, scale));
        }
        maps.push_back(std::move(units));
    }
    s.data = {{"layers", mlp->shape().widths},
              {"activation", layers > 1 ? cfg.model.activation : "none"},
              {"classes", data->outputDim()},
              {"x0", plane.x0}, {"x1", plane.x1}, {"y0", plane.y0}, {"y1", plane.y1},
              {"nx", plane.nx}, {"ny", plane.ny},
              {"weights", weights}, {"maps", maps}};
    return s;
}

}  // namespace h158
