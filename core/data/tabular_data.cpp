// Synthetic generators and the tabular data set (split, batches, cluster features).
#include "core/data/tabular_data.h"

#include <cmath>
#include <numbers>
#include <numeric>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/data/csv.h"

namespace h158 {

TabularDataset::TabularDataset(std::string description, MatF x, MatF y,
                               std::vector<int32_t> labels, int classes, double valFraction,
                               uint64_t seed)
    : m_description(std::move(description)),
      m_x(std::move(x)),
      m_y(std::move(y)),
      m_labels(std::move(labels)),
      m_classes(classes) {
    const int64_t n = m_x.cols();
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    Rng rng(seed, 0x5e1);
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[size_t(i)], order[rng.below(uint64_t(i) + 1)]);
    const int64_t nVal = std::min<int64_t>(n - 1, int64_t(std::llround(double(n) * valFraction)));
    m_val.assign(order.begin(), order.begin() + nVal);
    m_train.assign(order.begin() + nVal, order.end());
    if (m_train.size() < 2) throw ConfigError("data.samples leaves fewer than 2 training samples");
}

MatF TabularDataset::clusterFeatures() const {
    // Standardised inputs of the training samples, so no feature dominates the distances.
    MatF f(m_x.rows(), Eigen::Index(m_train.size()));
    for (size_t j = 0; j < m_train.size(); ++j) f.col(Eigen::Index(j)) = m_x.col(m_train[j]);
    const VecF mean = f.rowwise().mean();
    f.colwise() -= mean;
    const VecF sd = (f.array().square().rowwise().mean()).sqrt().max(1e-12f).matrix();
    return sd.cwiseInverse().asDiagonal() * f;
}

Batch TabularDataset::gather(const std::vector<int64_t>& cols) const {
    Batch b;
    b.size = int64_t(cols.size());
    b.x.resize(m_x.rows(), b.size);
    if (m_classes == 0) b.y.resize(m_y.rows(), b.size);
    for (int64_t j = 0; j < b.size; ++j) {
        const int64_t c = cols[size_t(j)];
        b.x.col(j) = m_x.col(c);
        if (m_classes == 0) b.y.col(j) = m_y.col(c);
        else b.labels.push_back(m_labels[size_t(c)]);
    }
    return b;
}

Batch TabularDataset::trainBatch(std::span<const int64_t> indices, Rng&) const {
    std::vector<int64_t> cols;
    cols.reserve(indices.size());
    for (int64_t i : indices) cols.push_back(m_train[size_t(i)]);
    Batch b = gather(cols);
    b.origins = std::move(cols);
    return b;
}

Batch TabularDataset::valBatch(int64_t begin, int64_t count) const {
    const int64_t end = std::min<int64_t>(int64_t(m_val.size()), begin + count);
    return gather(std::vector<int64_t>(m_val.begin() + begin, m_val.begin() + end));
}

MatF TabularDataset::trainInputs2d() const {
    if (m_x.rows() != 2) return {};
    MatF p(2, Eigen::Index(m_train.size()));
    for (size_t j = 0; j < m_train.size(); ++j) p.col(Eigen::Index(j)) = m_x.col(m_train[j]);
    return p;
}

std::unique_ptr<Dataset> makeRegressionData(const Config& cfg) {
    const auto& d = cfg.data;
    Rng rng(uint64_t(cfg.run.seed), 0xda7a);
    const int64_t F = d.features, K = d.targets, N = d.samples, M = d.modes;
    MatF centers(F, M), A(K, F), x(F, N), y(K, N);
    VecF c(K);
    for (auto& v : centers.reshaped()) v = float(rng.normal(0.0, 2.0));
    for (auto& v : A.reshaped()) v = float(rng.normal(0.0, 1.0 / std::sqrt(double(F))));
    for (auto& v : c) v = float(rng.normal(0.0, 0.5));
    for (int64_t j = 0; j < N; ++j) {
        const int64_t m = int64_t(rng.below(uint64_t(M)));
        for (int64_t i = 0; i < F; ++i) x(i, j) = centers(i, m) + float(rng.normal());
    }
    y = A * x;
    y.colwise() += c;
    for (auto& v : y.reshaped()) v += float(rng.normal(0.0, d.noise));
    const std::string desc = "regression: " + std::to_string(N) + " samples, " +
                             std::to_string(F) + " -> " + std::to_string(K) + ", " +
                             std::to_string(M) + " input modes, noise " + std::to_string(d.noise);
    return std::make_unique<TabularDataset>(desc, std::move(x), std::move(y),
                                            std::vector<int32_t>{}, 0, d.val_fraction,
                                            uint64_t(cfg.run.seed));
}

std::unique_ptr<Dataset> makeClassification2d(const Config& cfg) {
    const auto& d = cfg.data;
    Rng rng(uint64_t(cfg.run.seed), 0x2d);
    const int64_t N = d.samples;
    MatF x(2, N);
    std::vector<int32_t> labels(static_cast<size_t>(N));
    int classes = 2;
    const double pi = std::numbers::pi;
    if (d.kind == "spirals") {
        // Two arms, as in the TensorFlow Playground: radius grows with the angle.
        for (int64_t j = 0; j < N; ++j) {
            const int cls = int(j % 2);
            const double t = double(j / 2) / double((N + 1) / 2);
            const double r = 0.05 + 0.95 * t;
            const double a = 1.75 * 2 * pi * t + cls * pi;
            x(0, j) = float(r * std::sin(a) + rng.normal(0.0, d.noise));
            x(1, j) = float(r * std::cos(a) + rng.normal(0.0, d.noise));
            labels[size_t(j)] = cls;
        }
    } else if (d.kind == "moons") {
        // scikit-learn's make_moons, centred and scaled into about [-1, 1].
        for (int64_t j = 0; j < N; ++j) {
            const int cls = int(j % 2);
            const double a = pi * rng.uniform();
            const double px = cls == 0 ? std::cos(a) : 1 - std::cos(a);
            const double py = cls == 0 ? std::sin(a) : 0.5 - std::sin(a);
            x(0, j) = float((px - 0.5) * 0.65 + rng.normal(0.0, d.noise));
            x(1, j) = float((py - 0.25) * 0.65 * 1.4 + rng.normal(0.0, d.noise));
            labels[size_t(j)] = cls;
        }
    } else if (d.kind == "blobs") {
        classes = int(dataShape(cfg).outputDim);
        std::vector<std::pair<double, double>> centers;
        for (int k = 0; k < classes; ++k) {
            const double a = 2 * pi * k / classes;
            centers.emplace_back(0.6 * std::cos(a), 0.6 * std::sin(a));
        }
        for (int64_t j = 0; j < N; ++j) {
            const int cls = int(j % classes);
            x(0, j) = float(centers[size_t(cls)].first + rng.normal(0.0, 0.1 + d.noise));
            x(1, j) = float(centers[size_t(cls)].second + rng.normal(0.0, 0.1 + d.noise));
            labels[size_t(j)] = cls;
        }
    } else if (d.kind == "xor") {
        for (int64_t j = 0; j < N; ++j) {
            double px = rng.uniform(-1, 1), py = rng.uniform(-1, 1);
            // keep a margin around the axes so the classes are separable before noise
            px += px > 0 ? 0.05 : -0.05;
            py += py > 0 ? 0.05 : -0.05;
            labels[size_t(j)] = (px * py > 0) ? 1 : 0;
            x(0, j) = float(px + rng.normal(0.0, d.noise));
            x(1, j) = float(py + rng.normal(0.0, d.noise));
        }
    } else {
        throw ConfigError("data.kind '" + d.kind + "' is not a 2-D classification set");
    }
    const std::string desc = d.kind + ": " + std::to_string(N) + " points, " +
                             std::to_string(classes) + " classes, noise " + std::to_string(d.noise);
    return std::make_unique<TabularDataset>(desc, std::move(x), MatF{}, std::move(labels), classes,
                                            d.val_fraction, uint64_t(cfg.run.seed));
}

// Class labels are 0 .. kMaxClasses-1: the output layer has one unit per class, so a label of 10^6
// would build a 10^6-way layer (more likely a regression target than a class).
constexpr int kMaxClasses = 1000;

std::unique_ptr<Dataset> makeCsvData(const Config& cfg) {
    const auto& d = cfg.data;
    const CsvTable t = readCsv(d.csv_file, "data.csv_file");
    const int64_t cols = t.values.rows(), rows = t.values.cols();
    if (cols < 2)
        throw FileError(d.csv_file + ": needs at least two columns (features and a target)");
    if (rows < 4) throw FileError(d.csv_file + ": needs at least 4 data rows, has " + std::to_string(rows));
    int64_t target = cols - 1;
    if (!d.csv_target.empty()) {
        auto it = std::find(t.names.begin(), t.names.end(), d.csv_target);
        if (it != t.names.end()) {
            target = it - t.names.begin();
        } else {
            try {
                size_t pos = 0;
                target = std::stoll(d.csv_target, &pos);
                if (pos != d.csv_target.size()) throw std::invalid_argument("");
            } catch (const std::exception&) {
                throw ConfigError("data.csv_target '" + d.csv_target + "' is neither a column of " +
                                  d.csv_file + " nor a column index");
            }
            if (target < 0 || target >= cols)
                throw ConfigError("data.csv_target must be a column index in [0, " +
                                  std::to_string(cols - 1) + "], got " + d.csv_target);
        }
    }
    MatF x(cols - 1, rows);
    for (int64_t c = 0, o = 0; c < cols; ++c)
        if (c != target) x.row(o++) = t.values.row(c);
    const std::string desc = "csv " + d.csv_file + ": " + std::to_string(rows) + " rows, " +
                             std::to_string(cols - 1) + " features, target '" +
                             t.names[size_t(target)] + "'";
    if (d.csv_task == "classification") {
        std::vector<int32_t> labels(static_cast<size_t>(rows));
        int classes = 0;
        for (int64_t j = 0; j < rows; ++j) {
            const float v = t.values(target, j);
            if (v < 0 || v != std::floor(v) || v >= kMaxClasses)
                throw FileError(d.csv_file + ":" + std::to_string(t.lines[size_t(j)]) +
                                ": class label must be an integer in [0, " +
                                std::to_string(kMaxClasses - 1) + "], got " + formatNumber(v));
            labels[size_t(j)] = int32_t(v);
            classes = std::max(classes, int(v) + 1);
        }
        if (classes < 2) throw FileError(d.csv_file + ": classification needs at least 2 classes");
        return std::make_unique<TabularDataset>(desc, std::move(x), MatF{}, std::move(labels),
                                                classes, d.val_fraction, uint64_t(cfg.run.seed));
    }
    MatF y = t.values.row(target);
    return std::make_unique<TabularDataset>(desc, std::move(x), std::move(y), std::vector<int32_t>{},
                                            0, d.val_fraction, uint64_t(cfg.run.seed));
}

}  // namespace h158
