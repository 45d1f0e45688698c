// Thread pool behind parallelFor: workers sleep on a condition variable (no busy waiting, so a
// GUI thread or another pool on the same cores is not starved) and pull chunks from an atomic.
#include "core/base/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace h158 {
namespace {

thread_local bool t_insideParallel = false;
thread_local int t_limit = 0;  // 0: the pool's size
thread_local int t_widest = 1;  // takeParallelWidth()

int hardwareThreads() { return int(std::max(1u, std::thread::hardware_concurrency())); }

class Pool {
public:
    ~Pool() { resize(1); }

    void resize(int n) {
        std::lock_guard jobLock(m_jobMutex);
        resizeLocked(n);
    }

    int size() const { return m_size; }

private:
    void resizeLocked(int n) {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
        }
        m_wake.notify_all();
        for (auto& t : m_workers) t.join();
        m_workers.clear();
        m_quit = false;
        n = std::max(1, n);
        m_size = n;
        for (int i = 1; i < n; ++i) m_workers.emplace_back([this, i] { workerLoop(i); });
    }

public:
    // Grows the pool to n threads (never shrinks it: another thread's limit may need them).
    // A trainer makes one ThreadLimit per step: when the pool is big enough (the usual case) this
    // returns without taking the job lock, so it never waits for another thread's parallel job.
    void reserve(int n) {
        if (n <= m_size.load()) return;
        std::lock_guard jobLock(m_jobMutex);
        if (n > m_size.load()) resizeLocked(n);
    }

    void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
        const int64_t chunks = (n + grain - 1) / grain;
        std::unique_lock jobLock(m_jobMutex, std::try_to_lock);  // m_size is read under it
        const int threads = t_limit > 0 ? std::min(t_limit, m_size.load()) : m_size.load();
        const int width =
            jobLock.owns_lock() && !t_insideParallel ? int(std::min<int64_t>(chunks, threads)) : 1;
        t_widest = std::max(t_widest, width);
        if (width <= 1) {
            serial(n, grain, fn);
            return;
        }
        {
            std::lock_guard lock(m_mutex);
            m_fn = &fn;
            m_n = n;
            m_grain = grain;
            m_chunks = chunks;
            m_next = 0;
            m_helpers = width - 1;  // workers 1..m_helpers take part, the rest sleep on
            m_pending = m_helpers;
            m_error = nullptr;
            ++m_generation;
        }
        m_wake.notify_all();
        work();
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [this] { return m_pending == 0; });
        m_fn = nullptr;
        if (m_error) std::rethrow_exception(m_error);
    }

private:
    static void serial(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
        for (int64_t b = 0; b < n; b += grain) fn(b, std::min(n, b + grain));
    }

    void work() {
        const bool outer = t_insideParallel;
        t_insideParallel = true;
        for (;;) {
            const int64_t c = m_next.fetch_add(1);
            if (c >= m_chunks) break;
            try {
                (*m_fn)(c * m_grain, std::min(m_n, (c + 1) * m_grain));
            } catch (...) {
                std::lock_guard lock(m_mutex);
                if (!m_error) m_error = std::current_exception();
            }
        }
        t_insideParallel = outer;
    }

    void workerLoop(int index) {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] {
                    return m_quit || (m_generation != seen && index <= m_helpers);
                });
                if (m_quit) return;
                seen = m_generation;
            }
            work();
            {
                std::lock_guard lock(m_mutex);
                --m_pending;
            }
            m_done.notify_one();
        }
    }

    std::mutex m_jobMutex;  // one parallel job at a time; a second caller runs serially
    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::vector<std::thread> m_workers;
    std::atomic<int> m_size{1};  // written under m_jobMutex; size() reads it without
    bool m_quit = false;
    uint64_t m_generation = 0;
    const std::function<void(int64_t, int64_t)>* m_fn = nullptr;
    int64_t m_n = 0, m_grain = 1, m_chunks = 0;
    std::atomic<int64_t> m_next{0};
    int m_pending = 0;
    int m_helpers = 0;
    std::exception_ptr m_error;
};

Pool& pool() {
    static Pool* p = [] {
        auto* q = new Pool;  // leaked on purpose: workers must outlive static destructors
        q->resize(hardwareThreads());
        return q;
    }();
    return *p;
}

}  // namespace

void setThreadCount(int n) {
    if (n <= 0) n = hardwareThreads();
    if (n != pool().size()) pool().resize(n);
}

int threadCount() { return t_limit > 0 ? t_limit : pool().size(); }

ThreadLimit::ThreadLimit(int n) : m_previous(t_limit) {
    t_limit = n > 0 ? n : hardwareThreads();
    pool().reserve(t_limit);
}

ThreadLimit::~ThreadLimit() { t_limit = m_previous; }

int takeParallelWidth() { return std::exchange(t_widest, 1); }

void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    if (n <= 0) return;
    pool().run(n, std::max<int64_t>(1, grain), fn);
}

}  // namespace h158
