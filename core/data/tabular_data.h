// In-memory tabular data sets: synthetic regression, the 2-D classification sets of the
// Playground (spirals, moons, blobs, xor) and a user's CSV file; split once into training and
// validation by a seeded shuffle.
#pragma once

#include "core/data/dataset.h"

namespace h158 {

class TabularDataset : public Dataset {
public:
    // x (F, N) inputs; y (K, N) regression targets, or labels (N) for classification.
    TabularDataset(std::string description, MatF x, MatF y, std::vector<int32_t> labels,
                   int classes, double valFraction, uint64_t seed);

    Task task() const override { return m_classes > 0 ? Task::Classification : Task::Regression; }
    int64_t trainSize() const override { return int64_t(m_train.size()); }
    int64_t valSize() const override { return int64_t(m_val.size()); }
    int64_t inputDim() const override { return m_x.rows(); }
    int64_t outputDim() const override { return m_classes > 0 ? m_classes : m_y.rows(); }
    MatF clusterFeatures() const override;
    Batch trainBatch(std::span<const int64_t> indices, Rng& rng) const override;
    Batch valBatch(int64_t begin, int64_t count) const override;
    MatF trainInputs2d() const override;
    std::string describe() const override { return m_description; }

private:
    Batch gather(const std::vector<int64_t>& rows) const;

    std::string m_description;
    MatF m_x, m_y;                      // (F, N), (K, N)
    std::vector<int32_t> m_labels;      // (N)
    int m_classes = 0;
    std::vector<int64_t> m_train, m_val;  // column indices of each split
};

// data.kind = regression: inputs from `modes` Gaussian clusters, y = A x + c + noise.
std::unique_ptr<Dataset> makeRegressionData(const Config& cfg);
// data.kind = spirals | moons | blobs | xor.
std::unique_ptr<Dataset> makeClassification2d(const Config& cfg);
// data.kind = csv (data.csv_file, data.csv_target, data.csv_task).
std::unique_ptr<Dataset> makeCsvData(const Config& cfg);

}  // namespace h158
