// What a model trains on: training samples addressed by index (so the cluster sampler can pick
// them), a fixed validation split, and features for clustering the training samples.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/data/batch.h"
#include "core/base/rng.h"

namespace h158 {

struct Config;

enum class Task { Regression, Classification, LanguageModel };

// What a model needs to know of its data: the task and the widths of a sample.
struct DataShape {
    Task task = Task::Regression;
    int64_t inputDim = 0;   // features (vocabulary size for text)
    int64_t outputDim = 0;  // targets, classes or vocabulary size
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual Task task() const = 0;
    virtual int64_t trainSize() const = 0;  // training samples (windows, for text)
    virtual int64_t valSize() const = 0;
    virtual int64_t inputDim() const = 0;   // features (vocabulary size for text)
    virtual int64_t outputDim() const = 0;  // targets, classes or vocabulary size
    // (F, trainSize): what the data clustering sees before the model has learned anything.
    virtual MatF clusterFeatures() const = 0;
    // Training samples by index; `rng` may jitter (text windows start at a random offset).
    virtual Batch trainBatch(std::span<const int64_t> indices, Rng& rng) const = 0;
    // Validation samples [begin, begin + count).
    virtual Batch valBatch(int64_t begin, int64_t count) const = 0;
    // 2-D inputs of the training samples (for scatter plots), or empty when inputDim() != 2.
    virtual MatF trainInputs2d() const { return {}; }
    virtual std::string describe() const = 0;
    // The un-jittered tokens of training window `index` (language models; empty for others).
    virtual std::vector<int32_t> trainTokens(int64_t /*index*/) const { return {}; }

    DataShape shape() const { return {task(), inputDim(), outputDim()}; }
};

// Builds the dataset that cfg.data describes (throws ConfigError / FileError).
std::unique_ptr<Dataset> makeDataset(const Config& cfg);
// The shape of the dataset cfg.data describes, without generating it (a CSV file is read, for
// its columns and classes). Throws as makeDataset.
DataShape dataShape(const Config& cfg);

}  // namespace h158
