// TextDataset (text_data.h): reading, splitting, windows and byte-class features.
#include "core/data/text_data.h"

#include <algorithm>
#include <iterator>

#include "core/base/errors.h"
#include "core/base/file_io.h"
#include "core/config/config.h"
#include "core/data/corpus.h"

namespace h158 {
namespace {

int byteClass(unsigned char c) {
    if (c >= 'a' && c <= 'z') return 0;
    if (c >= 'A' && c <= 'Z') return 1;
    if (c >= '0' && c <= '9') return 2;
    if (c == ' ' || c == '\t') return 3;
    if (c == '\n' || c == '\r') return 4;
    switch (c) {
        case '.':
        case ',':
        case ';':
        case ':':
        case '!':
        case '?':
            return 5;
        case '\'':
        case '"':
        case '`':
            return 6;
        case '+':
        case '-':
        case '*':
        case '/':
        case '=':
        case '<':
        case '>':
        case '%':
        case '^':
        case '&':
        case '|':
        case '~':
            return 7;
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
            return 8;
        default:
            return 9;
    }
}

}  // namespace

TextDataset::TextDataset(std::string text, int64_t context, double valFraction, std::string source)
    : m_text(std::move(text)), m_source(std::move(source)), m_T(context) {
    const int64_t n = int64_t(m_text.size()), W = m_T + 1;
    m_trainBytes = valFraction > 0 ? int64_t(double(n) * (1.0 - valFraction)) : n;
    const int64_t valBytes = n - m_trainBytes;
    const int64_t needTrain = 2 * W;
    const int64_t needVal = valFraction > 0 ? W : 0;
    if (m_trainBytes < needTrain || valBytes < needVal) {
        const int64_t need = valFraction > 0
                                 ? std::max(int64_t(double(needTrain) / (1.0 - valFraction)) + 1,
                                            int64_t(double(needVal) / valFraction) + 1)
                                 : needTrain;
        throw FileError(m_source + ": " + std::to_string(n) + " bytes" +
                        (n == 0 ? " (empty)" : "") + " is too short for model.context " +
                        std::to_string(m_T) + " with data.val_fraction " +
                        std::to_string(valFraction) + " (need at least " + std::to_string(need) +
                        " bytes: two training windows and one validation window)");
    }
    const int64_t span = m_trainBytes - W + 1;  // possible window starts
    m_stride = std::max(m_T, (span + kMaxWindows - 1) / kMaxWindows);
    m_trainWindows = (span - 1) / m_stride + 1;
    m_valWindows = valBytes >= W ? (valBytes - W) / m_T + 1 : 0;
}

void TextDataset::copyWindow(int64_t start, int32_t* out) const {
    const auto* p = reinterpret_cast<const unsigned char*>(m_text.data()) + start;
    for (int64_t k = 0; k <= m_T; ++k) out[k] = int32_t(p[k]);
}

std::vector<int32_t> TextDataset::window(int64_t i) const {
    if (i < 0 || i >= m_trainWindows)
        throw Error("text: training window " + std::to_string(i) + " out of range");
    std::vector<int32_t> w(size_t(m_T + 1));
    copyWindow(i * m_stride, w.data());
    return w;
}

Batch TextDataset::trainBatch(std::span<const int64_t> indices, Rng& rng) const {
    Batch b;
    b.size = int64_t(indices.size());
    b.seqLen = m_T;
    b.tokens.resize(size_t(b.size * (m_T + 1)));
    const int64_t lastStart = m_trainBytes - (m_T + 1);
    for (int64_t r = 0; r < b.size; ++r) {
        const int64_t i = indices[size_t(r)];
        if (i < 0 || i >= m_trainWindows)
            throw Error("text: training window " + std::to_string(i) + " out of range");
        const int64_t base = i * m_stride;
        const int64_t jitterRange = std::min(m_stride, lastStart - base + 1);
        const int64_t start = base + int64_t(rng.below(uint64_t(jitterRange)));
        copyWindow(start, b.tokens.data() + r * (m_T + 1));
        b.origins.push_back(start);
    }
    return b;
}

Batch TextDataset::valBatch(int64_t begin, int64_t count) const {
    Batch b;
    begin = std::clamp<int64_t>(begin, 0, m_valWindows);
    b.size = std::clamp<int64_t>(count, 0, m_valWindows - begin);
    b.seqLen = m_T;
    b.tokens.resize(size_t(b.size * (m_T + 1)));
    for (int64_t r = 0; r < b.size; ++r)
        copyWindow(m_trainBytes + (begin + r) * m_T, b.tokens.data() + r * (m_T + 1));
    return b;
}

MatF TextDataset::clusterFeatures() const {
    // (kFeatures, trainSize): class fractions over [i*stride, i*stride + stride + T), clipped
    MatF F = MatF::Zero(kFeatures, m_trainWindows);
    const auto* p = reinterpret_cast<const unsigned char*>(m_text.data());
    for (int64_t i = 0; i < m_trainWindows; ++i) {
        const int64_t a = i * m_stride, e = std::min(m_trainBytes, a + m_stride + m_T);
        for (int64_t k = a; k < e; ++k) F(byteClass(p[k]), i) += 1.0f;
        F.col(i) /= float(e - a);
    }
    return F;
}

const char* TextDataset::featureName(int f) {
    static const char* names[kFeatures] = {"lower", "upper", "digit",    "space",   "newline",
                                           "punct", "quote", "operator", "bracket", "other"};
    return f >= 0 && f < kFeatures ? names[f] : "";
}

std::string TextDataset::describe() const {
    return "text: " + m_source + " (" + std::to_string(m_text.size()) + " bytes; " +
           std::to_string(m_trainWindows) + " training windows of " + std::to_string(m_T + 1) +
           " bytes at stride " + std::to_string(m_stride) + ", " + std::to_string(m_valWindows) +
           " validation windows)";
}

std::unique_ptr<Dataset> makeTextDataset(const Config& cfg) {
    const std::string& path = cfg.data.text_file;
    if (path.empty())
        return std::make_unique<TextDataset>(generateCorpus(), cfg.model.context,
                                             cfg.data.val_fraction, "generated corpus");
    std::string text = readFile(path, "data.text_file");
    return std::make_unique<TextDataset>(std::move(text), cfg.model.context, cfg.data.val_fraction,
                                         "data.text_file '" + path + "'");
}

}  // namespace h158
