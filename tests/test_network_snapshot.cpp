// The "network" snapshot and the boundary's full-precision ghost, held to the trainer: edge codes
// are the quantizer's, latent weights the parameters, each unit's map a forward pass computed here
// from the effective weights, and p_latent the model's prediction with the latent weights.
#include <QtTest>

#include "core/config/config.h"
#include "core/model/mlp_model.h"
#include "core/train/trainer.h"

using namespace h158;

namespace {

// The snapshots of `kind` taken at the trainer's current step (after the run's last step).
nlohmann::json latest(const std::vector<Snapshot>& snaps, const std::string& kind, int64_t step) {
    for (auto it = snaps.rbegin(); it != snaps.rend(); ++it)
        if (it->kind == kind && it->step == step) return it->data;
    return nullptr;
}

// The centres of the snapshot's nx x ny cells, row-major (the trainer's grid, recomputed).
MatF gridOf(const nlohmann::json& d) {
    const float x0 = d["x0"], x1 = d["x1"], y0 = d["y0"], y1 = d["y1"];
    const int nx = d["nx"], ny = d["ny"];
    MatF g(2, nx * ny);
    for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
            g(0, iy * nx + ix) = x0 + (x1 - x0) * (ix + 0.5f) / nx;
            g(1, iy * nx + ix) = y0 + (y1 - y0) * (iy + 0.5f) / ny;
        }
    return g;
}

Config spirals(const std::string& weights) {
    Config c = presetConfig("spirals");
    c.run.steps = 40;
    c.run.snapshot_every = 20;
    c.quant.weights = weights;
    return c;
}

struct Run {
    std::unique_ptr<Trainer> trainer;
    std::vector<Snapshot> snaps;
};

Run train(const Config& c) {
    Run r{std::make_unique<Trainer>(c), {}};
    while (!r.trainer->finished()) {
        r.trainer->step();
        for (auto& s : r.trainer->takeSnapshots()) r.snaps.push_back(std::move(s));
    }
    return r;
}

// max |a - b| over two equally long sequences
template <typename A, typename B>
double maxDiff(const A& a, const B& b) {
    double m = 0;
    for (size_t i = 0; i < size_t(a.size()); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
    return m;
}

}  // namespace

class TestNetworkSnapshot : public QObject {
    Q_OBJECT
  private slots:
    void edgesAreTheModelsCodesAndLatentWeights() {
        const Run r = train(spirals("ternary"));
        Trainer& t = *r.trainer;
        const nlohmann::json d = latest(r.snaps, "network", t.stepsDone());
        QVERIFY2(!d.is_null(), "no network snapshot at the last step");
        const auto& mlp = dynamic_cast<const MlpModel&>(t.model());
        QCOMPARE(d["layers"].get<std::vector<int64_t>>(), mlp.shape().widths);
        QCOMPARE(d["weights"].size(), size_t(mlp.layerCount()));
        const ParamLayout& L = t.model().layout();
        int quantized = 0;
        for (int l = 0; l < mlp.layerCount(); ++l) {
            const auto& w = d["weights"][size_t(l)];
            const int ti = mlp.weightIndex(l);
            QCOMPARE(w["rows"].get<int64_t>(), L[ti].rows);
            QCOMPARE(w["cols"].get<int64_t>(), L[ti].cols);
            const auto latent = w["latent"].get<std::vector<float>>();
            QCOMPARE(int64_t(latent.size()), L[ti].size());
            for (int64_t i = 0; i < L[ti].size(); ++i)
                QCOMPARE(latent[size_t(i)], t.parameters()[size_t(L[ti].offset + i)]);
            const auto& q = t.quantState().tensors[size_t(ti)];
            if (q.levels == QuantLevels::None) {
                QVERIFY(!w.contains("codes"));
                QCOMPARE(w["level_set"].get<std::string>(), std::string("none"));
                continue;
            }
            ++quantized;
            QCOMPARE(w["level_set"].get<std::string>(), std::string("ternary"));
            QVERIFY(w["codes"].get<std::vector<int8_t>>() == q.codes);
        }
        // spirals keeps its first and last layers at fp32 (quant.io_layers=false)
        QCOMPARE(quantized, mlp.layerCount() - 2);
    }

    void unitMapsAreTheForwardPass() {
        Config c = spirals("ternary");
        c.model.activation = "tanh";  // hidden outputs of both signs
        const Run r = train(c);
        Trainer& t = *r.trainer;
        const nlohmann::json d = latest(r.snaps, "network", t.stepsDone());
        QVERIFY(!d.is_null());
        QCOMPARE(d["nx"].get<int>() * d["ny"].get<int>(), 24 * 24);
        const MatF x = gridOf(d);
        // The forward pass written out here: h = tanh(W h + b) per hidden layer, then softmax.
        const auto& mlp = dynamic_cast<const MlpModel&>(t.model());
        const ParamLayout& L = t.model().layout();
        const float* w = t.effectiveParameters().data();
        MatF h = x;
        for (int l = 0; l < mlp.layerCount(); ++l) {
            const auto& wt = L[mlp.weightIndex(l)];
            const auto& bt = L[mlp.biasIndex(l)];
            const CMapMat<float> W(w + wt.offset, wt.rows, wt.cols);
            const CMapVec<float> b(w + bt.offset, bt.rows);
            MatF z = W * h;
            z.colwise() += b;
            const bool last = l + 1 == mlp.layerCount();
            if (last) {
                for (Eigen::Index j = 0; j < z.cols(); ++j) {
                    const VecF e = (z.col(j).array() - z.col(j).maxCoeff()).exp().matrix();
                    z.col(j) = e / e.sum();
                }
                // the output units are also the model's own class probabilities
                const MatF p = t.model().predictProba(w, &t.quantState(), x);
                QVERIFY(maxDiff(z.reshaped(), p.reshaped()) < 1e-5);
            } else {
                z = z.array().tanh().matrix();
            }
            h = z;
            const auto& units = d["maps"][size_t(l)];
            QCOMPARE(units.size(), size_t(h.rows()));
            for (Eigen::Index u = 0; u < h.rows(); ++u) {
                const double scale = units[size_t(u)]["scale"];
                const auto hex = units[size_t(u)]["q_hex"].get<std::string>();
                QCOMPARE(hex.size(), size_t(2 * h.cols()));
                const double expectScale = last ? 1.0 : double(h.row(u).cwiseAbs().maxCoeff());
                QVERIFY(std::abs(scale - expectScale) <= 1e-5 * std::max(1.0, expectScale));
                for (Eigen::Index j = 0; j < h.cols(); ++j) {
                    bool ok = false;
                    const int b = QByteArray::fromStdString(hex.substr(size_t(2 * j), 2)).toInt(&ok, 16);
                    QVERIFY(ok && b >= 0 && b <= 255);
                    // v ≈ (2b/255 - 1) * scale, rounded to the nearest of 256 steps of 2*scale/255
                    const double v = (2.0 * b / 255 - 1) * scale;
                    QVERIFY2(std::abs(v - double(h(u, j))) <= scale / 255 + 1e-5,
                             qPrintable(QString("layer %1 unit %2 cell %3: %4 vs %5")
                                            .arg(l).arg(u).arg(j).arg(v).arg(h(u, j))));
                }
            }
        }
    }

    void ghostIsTheLatentNetwork() {
        const Run r = train(spirals("ternary"));
        Trainer& t = *r.trainer;
        const nlohmann::json d = latest(r.snaps, "boundary", t.stepsDone());
        QVERIFY(!d.is_null() && d.contains("p_latent"));
        const MatF prob = t.model().predictProba(t.parameters().data(), nullptr, gridOf(d));
        const auto ghost = d["p_latent"].get<std::vector<double>>();
        QCOMPARE(int64_t(ghost.size()), int64_t(prob.cols()));
        for (Eigen::Index j = 0; j < prob.cols(); ++j) QCOMPARE(ghost[size_t(j)], double(prob(1, j)));
        // and it is not the quantized boundary: quantization moves it
        const auto p = d["p"].get<std::vector<double>>();
        QVERIFY2(maxDiff(p, ghost) > 1e-3, qPrintable(QString::number(maxDiff(p, ghost))));
    }

    void noGhostAndNoCodesWithoutQuantization() {
        const Run r = train(spirals("none"));
        const int64_t step = r.trainer->stepsDone();
        const nlohmann::json b = latest(r.snaps, "boundary", step);
        QVERIFY(!b.is_null() && b.contains("p"));
        QVERIFY(!b.contains("p_latent"));
        const nlohmann::json n = latest(r.snaps, "network", step);
        QVERIFY(!n.is_null());
        for (const auto& w : n["weights"]) QVERIFY(!w.contains("codes"));
    }

    void onlyForTwoDimensionalClassifiers() {
        Config c = presetConfig("seed-linear");
        c.run.steps = 2;
        Trainer t(c);
        for (const auto& s : t.takeSnapshots()) QVERIFY(s.kind != "network");
    }
};

QTEST_APPLESS_MAIN(TestNetworkSnapshot)
#include "test_network_snapshot.moc"
