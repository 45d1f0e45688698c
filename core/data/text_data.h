// Byte-level text for the GPT: a file read as bytes (or the generated corpus of corpus.h when
// data.text_file is empty), split into training and validation text, cut into windows.
//
// Split: the first (1 - data.val_fraction) of the bytes train, the rest validate (no shuffling,
// so the split is deterministic and validation text is never trained on).
// Training sample i: a window of T+1 bytes (T = model.context; inputs [0, T), targets [1, T])
// starting at i * stride + j, where stride = max(T, ceil(span / 65536)) (at most 65536 windows)
// and trainBatch draws the jitter j uniformly in [0, stride) (clipped at the end of the training
// text), so over many batches every offset is trained. Validation window i starts at i * T.
// Cluster features: for each training window, the fractions of its bytes (over the region its
// jittered windows come from) in kFeatures byte classes: lower-case letters, upper-case letters,
// digits, spaces/tabs, line breaks, sentence punctuation (.,;:!?), quotes ('"`), operators
// (+-*/=<>%^&|~), brackets ()[]{}, anything else (other symbols, control bytes, bytes >= 128).
// Prose, arithmetic and lists separate cleanly on these.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/data/dataset.h"

namespace h158 {

class TextDataset : public Dataset {
  public:
    static constexpr int kFeatures = 10;
    static constexpr int64_t kMaxWindows = 65536;

    // text: the bytes; source: where they came from (file name or "generated corpus"), for
    // messages. Throws FileError naming the source when the text is too short for the context:
    // at least 2 training windows and, with valFraction > 0, one validation window.
    TextDataset(std::string text, int64_t context, double valFraction, std::string source);

    Task task() const override { return Task::LanguageModel; }
    int64_t trainSize() const override { return m_trainWindows; }
    int64_t valSize() const override { return m_valWindows; }
    int64_t inputDim() const override { return 256; }
    int64_t outputDim() const override { return 256; }
    MatF clusterFeatures() const override;  // (kFeatures, trainSize)
    Batch trainBatch(std::span<const int64_t> indices, Rng& rng) const override;
    Batch valBatch(int64_t begin, int64_t count) const override;
    std::string describe() const override;

    // Training window i without jitter: T+1 byte values.
    std::vector<int32_t> window(int64_t i) const;
    std::vector<int32_t> trainTokens(int64_t i) const override { return window(i); }
    static const char* featureName(int f);

    const std::string& text() const { return m_text; }
    int64_t context() const { return m_T; }
    int64_t trainBytes() const { return m_trainBytes; }
    int64_t stride() const { return m_stride; }

  private:
    void copyWindow(int64_t start, int32_t* out) const;

    std::string m_text;
    std::string m_source;
    int64_t m_T = 0;
    int64_t m_trainBytes = 0;  // text[0, trainBytes) trains, the rest validates
    int64_t m_stride = 0;
    int64_t m_trainWindows = 0;
    int64_t m_valWindows = 0;
};

// data.text_file (empty = generateCorpus()), model.context, data.val_fraction. A missing,
// unreadable, empty or too short file throws FileError naming the file.
std::unique_ptr<Dataset> makeTextDataset(const Config& cfg);

}  // namespace h158
