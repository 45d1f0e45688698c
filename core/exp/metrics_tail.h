// Reading a run's metrics.csv while another process appends to it: each poll reads only the bytes
// added since the last one, so following a live run costs what it writes, not the file's size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/train/metrics.h"

namespace h158 {

class MetricsTail {
  public:
    explicit MetricsTail(std::string path) : m_path(std::move(path)) {}

    // The rows completed since the last poll, in file order. A line is taken once its newline is
    // there (a row being written stays pending); no file yet gives nothing. A file that shrank
    // (the run started over in the same directory) is read again from its start, and its rows
    // are the whole new file's (restarted() tells). Throws FileError naming the file and line
    // for a header that is not a metrics header or a complete row that does not parse.
    std::vector<StepMetrics> poll();
    // Whether the last poll started the file over.
    bool restarted() const { return m_restarted; }
    // Bytes read so far (the file offset of the next poll).
    uint64_t offset() const { return m_offset; }
    const std::string& path() const { return m_path; }

  private:
    std::string m_path;
    uint64_t m_offset = 0;
    std::string m_partial;  // the bytes of a line whose newline has not arrived
    int64_t m_line = 0;     // lines completed so far
    bool m_restarted = false;
};

}  // namespace h158
