#include "core/exp/metrics_tail.h"

#include <filesystem>
#include <fstream>

#include "core/base/errors.h"

namespace h158 {

std::vector<StepMetrics> MetricsTail::poll() {
    std::vector<StepMetrics> rows;
    m_restarted = false;
    std::error_code ec;
    const auto size = std::filesystem::file_size(m_path, ec);
    if (ec) return rows;  // not there (yet)
    if (size < m_offset) {  // truncated: a new run writes the file again
        m_offset = 0;
        m_partial.clear();
        m_line = 0;
        m_restarted = true;
    }
    if (size == m_offset) return rows;
    std::ifstream in(m_path, std::ios::binary);
    if (!in) return rows;
    in.seekg(std::streamoff(m_offset));
    std::string chunk(size_t(size - m_offset), '\0');
    in.read(chunk.data(), std::streamsize(chunk.size()));
    chunk.resize(size_t(in.gcount()));
    m_offset += chunk.size();
    size_t from = 0;
    for (size_t nl; (nl = chunk.find('\n', from)) != std::string::npos; from = nl + 1) {
        std::string line = m_partial + chunk.substr(from, nl - from);
        m_partial.clear();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        ++m_line;
        if (m_line == 1) {
            if (line.rfind("step,loss", 0) != 0)
                throw FileError(m_path + ":1: not a metrics header");
            continue;
        }
        if (line.empty()) continue;
        try {
            rows.push_back(parseMetricsCsvRow(line));
        } catch (const std::exception& e) {
            throw FileError(m_path + ":" + std::to_string(m_line) + ": " + e.what());
        }
    }
    m_partial += chunk.substr(from);
    return rows;
}

}  // namespace h158
