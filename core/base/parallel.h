// A small persistent thread pool and a deterministic parallelFor. Work is cut into chunks by
// index only (never by thread count), so results do not depend on how many threads run.
#pragma once

#include <cstdint>
#include <functional>

namespace h158 {

// Number of worker threads used by parallelFor (including the caller). 0 = all hardware threads.
void setThreadCount(int n);
int threadCount();

// Calls fn(begin, end) on disjoint chunks [begin, end) covering [0, n), each at most `grain`
// long, spread over the pool; returns when all are done. Exceptions from fn are rethrown.
// Nested calls from inside fn run serially.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace h158
