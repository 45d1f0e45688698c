// A small persistent thread pool and a deterministic parallelFor. Work is cut into chunks by
// index only (never by thread count), so results do not depend on how many threads run.
#pragma once

#include <cstdint>
#include <functional>

namespace h158 {

// Size of the process's pool (threads including the caller), the default width of parallelFor.
// 0 = all hardware threads. For programs that run one job (the CLI's kmeans, generate, bench);
// a trainer uses ThreadLimit, so trainers with different run.threads can share the process.
void setThreadCount(int n);
// How many threads a parallelFor called from this thread uses at most (the innermost
// ThreadLimit's count, else the pool's size).
int threadCount();

// While alive, parallelFor calls from this thread use at most n threads (the caller included;
// 0 = all hardware threads); the pool grows to n if it is smaller. Other threads are not affected.
// Results do not depend on n (chunks are cut by index), only the time does.
class ThreadLimit {
public:
    explicit ThreadLimit(int n);
    ~ThreadLimit();
    ThreadLimit(const ThreadLimit&) = delete;
    ThreadLimit& operator=(const ThreadLimit&) = delete;

private:
    int m_previous;
};

// The most threads any parallelFor called from this thread ran on since the last call (1 when all
// ran serially, or none ran), then counts again: lets tests see what a ThreadLimit did.
int takeParallelWidth();

// Calls fn(begin, end) on disjoint chunks [begin, end) covering [0, n), each at most `grain`
// long, spread over the pool; returns when all are done. Exceptions from fn are rethrown.
// Nested calls from inside fn run serially.
void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace h158
