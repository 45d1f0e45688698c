#include "ui/snapshot_store.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QThread>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/exp/run_session.h"
#include "ui/history_bounds.h"

namespace h158::ui {

namespace {

// The kinds whose history the panels draw (every allocation, the last samples): never thinned.
bool keptWhole(const std::string& kind) {
    return kind == "precision" || kind == "samples";
}

// The top-level "step" and "kind" of one JSON object line. Strings are skipped whole (a text
// sample may hold anything, escaped), brackets are counted, and only keys at depth 1 are read.
// Keys come sorted (kind before step), so most lines end the scan before their big arrays.
bool scanSnapshotKeys(const char* p, const char* end, int64_t& step, std::string& kind) {
    int depth = 0;
    bool expectKey = false, haveStep = false, haveKind = false;
    auto skipSpace = [&] {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
    };
    while (p < end) {
        const char c = *p++;
        if (c == '"') {
            const char* s = p;
            for (;;) {  // the closing quote: one not escaped by an odd run of backslashes
                const void* q = std::memchr(p, '"', size_t(end - p));
                if (!q) return false;
                const char* quote = static_cast<const char*>(q);
                const char* b = quote;
                while (b > s && b[-1] == '\\') --b;
                p = quote + 1;
                if ((quote - b) % 2 == 0) break;
            }
            if (depth != 1 || !expectKey) continue;
            expectKey = false;
            const std::string_view key(s, size_t(p - 1 - s));
            skipSpace();
            if (p >= end || *p != ':') return false;
            ++p;
            skipSpace();
            if (key == "step") {
                const auto r = std::from_chars(p, end, step);
                haveStep = r.ec == std::errc();
                p = r.ptr;
            } else if (key == "kind" && p < end && *p == '"') {
                const void* q = std::memchr(p + 1, '"', size_t(end - p - 1));
                if (!q) return false;
                kind.assign(p + 1, static_cast<const char*>(q));
                haveKind = true;
                p = static_cast<const char*>(q) + 1;
            }
            if (haveStep && haveKind) return true;
            continue;
        }
        switch (c) {
            case '{':
            case '[':
                ++depth;
                expectKey = c == '{' && depth == 1;
                break;
            case '}':
            case ']':
                --depth;
                break;
            case ',':
                expectKey = depth == 1;
                break;
            default:
                break;
        }
    }
    return false;
}

}  // namespace

std::vector<SnapshotLine> indexSnapshotFile(const QString& path, int64_t from, int64_t* end,
                                            const std::atomic<bool>* cancel) {
    std::vector<SnapshotLine> lines;
    if (end) *end = from;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly) || f.size() <= from) return lines;
    const int64_t size = f.size() - from;
    // Mapped, the file is read by the scan itself (no copy); a file that does not map is read.
    QByteArray copy;
    const char* data = reinterpret_cast<const char*>(f.map(from, size));
    int64_t n = size;
    if (!data) {
        f.seek(from);
        copy = f.read(size);
        data = copy.constData();
        n = copy.size();
    }
    const char* p = data;
    const char* stop = data + n;
    int64_t step = 0;
    std::string kind;
    for (int line = 0; p < stop; ++line) {
        const void* nl = std::memchr(p, '\n', size_t(stop - p));
        if (!nl) break;  // a line still being written
        const char* e = static_cast<const char*>(nl);
        if (scanSnapshotKeys(p, e, step, kind))
            lines.push_back({step, kind, from + (p - data), int64_t(e - p)});
        p = e + 1;
        if (end) *end = from + (p - data);
        if (cancel && line % 1024 == 0 && cancel->load()) break;
    }
    return lines;
}

Snapshot parseSnapshotLine(std::string_view line) {
    nlohmann::json j = nlohmann::json::parse(line.begin(), line.end());
    Snapshot s;
    s.step = j.at("step").get<int64_t>();
    s.kind = j.at("kind").get<std::string>();
    j.erase("step");
    j.erase("kind");
    s.data = std::move(j);
    return s;
}

size_t approxBytes(const nlohmann::json& j) {
    size_t n = sizeof(nlohmann::json);
    switch (j.type()) {
        case nlohmann::json::value_t::object:
            n += 48;
            for (auto it = j.begin(); it != j.end(); ++it)
                n += 64 + it.key().size() + approxBytes(it.value());  // a tree node, key, value
            break;
        case nlohmann::json::value_t::array:
            n += 32;
            for (const auto& v : j) n += approxBytes(v);
            break;
        case nlohmann::json::value_t::string:
            n += 32 + j.get_ref<const std::string&>().size();
            break;
        default:
            break;
    }
    return n;
}

RunSnapshots::RunSnapshots(const QString& file, const std::vector<SnapshotLine>& index)
    : m_file(file) {
    for (const SnapshotLine& l : index) {
        Entry e;
        e.step = l.step;
        e.offset = l.offset;
        e.length = l.length;
        m_kinds[l.kind].push_back(std::move(e));
    }
    for (auto& [kind, list] : m_kinds)
        std::stable_sort(list.begin(), list.end(),
                         [](const Entry& a, const Entry& b) { return a.step < b.step; });
}

void RunSnapshots::add(Ptr s) {
    if (!s) return;
    std::vector<Entry>& list = m_kinds[s->kind];
    // a run continued from a checkpoint sends its steps after the checkpoint again
    const bool history = keptWhole(s->kind);
    while (!list.empty() &&
           (list.back().step > s->step || (!history && list.back().step == s->step))) {
        m_bytes -= list.back().bytes;
        list.pop_back();
    }
    Entry e;
    e.step = s->step;
    e.bytes = sizeof(Snapshot) + s->kind.size() + approxBytes(s->data);
    e.snap = std::move(s);
    m_bytes += e.bytes;
    list.push_back(std::move(e));
    if (m_bytes > kLiveBytes) thin();
}

void RunSnapshots::thin() {
    while (m_bytes > kLiveBytes) {
        bool thinned = false;
        for (auto& [kind, list] : m_kinds) {
            if (keptWhole(kind) || list.size() <= 2) continue;
            size_t out = 0;
            for (size_t i = 0; i < list.size(); ++i) {
                if (i % 2 == 0 || i + 1 == list.size())
                    list[out++] = std::move(list[i]);
                else
                    m_bytes -= list[i].bytes;
            }
            list.resize(out);
            thinned = true;
        }
        if (!thinned) break;
    }
}

RunSnapshots::Ptr RunSnapshots::load(Entry& e) {
    e.used = ++m_clock;
    if (e.snap || e.offset < 0) return e.snap;
    QFile f(m_file);
    if (!f.open(QIODevice::ReadOnly) || !f.seek(e.offset)) {
        m_error = QStringLiteral("%1: cannot read").arg(m_file);
        return nullptr;
    }
    const QByteArray line = f.read(e.length);
    try {
        auto s = std::make_shared<Snapshot>(
            parseSnapshotLine(std::string_view(line.constData(), size_t(line.size()))));
        e.bytes = sizeof(Snapshot) + s->kind.size() + approxBytes(s->data);
        e.snap = std::move(s);
        m_bytes += e.bytes;
    } catch (const std::exception& ex) {
        m_error = QStringLiteral("%1 at byte %2: %3")
                      .arg(m_file)
                      .arg(e.offset)
                      .arg(QString::fromUtf8(ex.what()));
        return nullptr;
    }
    Ptr p = e.snap;
    evict(&e);
    return p;
}

void RunSnapshots::evict(const Entry* keep) {
    while (m_bytes > kParsedBytes) {
        Entry* oldest = nullptr;
        for (auto& [kind, list] : m_kinds)
            for (Entry& e : list)
                if (e.snap && &e != keep && (!oldest || e.used < oldest->used)) oldest = &e;
        if (!oldest) return;
        m_bytes -= oldest->bytes;
        oldest->snap.reset();
        oldest->bytes = 0;
    }
}

void RunSnapshots::releaseParsed() {
    if (!fromFile()) return;
    for (auto& [kind, list] : m_kinds)
        for (Entry& e : list) {
            e.snap.reset();
            e.bytes = 0;
        }
    m_bytes = 0;
}

RunSnapshots::Ptr RunSnapshots::at(const std::string& kind, int64_t step) {
    const auto k = m_kinds.find(kind);
    if (k == m_kinds.end()) return nullptr;
    std::vector<Entry>& list = k->second;
    auto it = std::upper_bound(list.begin(), list.end(), step,
                               [](int64_t s, const Entry& e) { return s < e.step; });
    if (it == list.begin()) return nullptr;
    return load(*std::prev(it));
}

std::vector<RunSnapshots::Ptr> RunSnapshots::upTo(const std::string& kind, int64_t step,
                                                  size_t most) {
    std::vector<Ptr> out;
    const auto k = m_kinds.find(kind);
    if (k == m_kinds.end()) return out;
    std::vector<Entry>& list = k->second;
    const auto stop = std::upper_bound(list.begin(), list.end(), step,
                                       [](int64_t s, const Entry& e) { return s < e.step; });
    auto start = stop - std::min<std::ptrdiff_t>(stop - list.begin(), std::ptrdiff_t(most));
    for (auto it = start; it != stop; ++it)
        if (Ptr p = load(*it)) out.push_back(std::move(p));
    return out;
}

int64_t RunSnapshots::stepAtOrBefore(int64_t step) const {
    int64_t best = -1;
    for (const auto& [kind, list] : m_kinds) {
        auto it = std::upper_bound(list.begin(), list.end(), step,
                                   [](int64_t s, const Entry& e) { return s < e.step; });
        if (it != list.begin()) best = std::max(best, std::prev(it)->step);
    }
    return best;
}

int64_t RunSnapshots::lastStep() const {
    int64_t last = -1;
    for (const auto& [kind, list] : m_kinds)
        if (!list.empty()) last = std::max(last, list.back().step);
    return last;
}

std::vector<std::string> RunSnapshots::kinds() const {
    std::vector<std::string> out;
    for (const auto& [kind, list] : m_kinds)
        if (!list.empty()) out.push_back(kind);
    return out;
}

size_t RunSnapshots::count() const {
    size_t n = 0;
    for (const auto& [kind, list] : m_kinds) n += list.size();
    return n;
}

size_t RunSnapshots::count(const std::string& kind) const {
    const auto k = m_kinds.find(kind);
    return k == m_kinds.end() ? 0 : k->second.size();
}

// ---- past runs ----------------------------------------------------------------------------

PastRunLoader::PastRunLoader(QObject* parent) : QObject(parent) {}

PastRunLoader::~PastRunLoader() {
    for (auto& [dir, job] : m_threads) job.cancel->store(true);
    for (auto& [dir, job] : m_threads) {
        job.thread->wait();
        delete job.thread;
    }
}

std::shared_ptr<PastRun> PastRunLoader::get(const QString& dir) const {
    for (const auto& r : m_runs)
        if (r->dir == dir) return r;
    return nullptr;
}

void PastRunLoader::load(const QString& dir) {
    if (m_threads.count(dir)) return;
    if (const auto r = get(dir);
        r && QFileInfo(dir + QStringLiteral("/snapshots.jsonl")).size() == r->fileBytes)
        return;
    Job job;
    job.cancel = std::make_shared<std::atomic<bool>>(false);
    job.result = std::make_shared<std::shared_ptr<PastRun>>();
    job.thread = QThread::create([dir, cancel = job.cancel, result = job.result] {
        *result = read(dir, cancel.get());
    });
    job.thread->setObjectName(QStringLiteral("pastRunLoader"));
    connect(job.thread, &QThread::finished, this, [this, dir] { finish(dir); });
    m_threads[dir] = job;
    job.thread->start(QThread::LowPriority);
}

void PastRunLoader::finish(const QString& dir) {
    const auto it = m_threads.find(dir);
    if (it == m_threads.end()) return;
    const Job job = it->second;
    m_threads.erase(it);
    job.thread->wait();
    delete job.thread;
    std::shared_ptr<PastRun> run = *job.result;
    if (!run) return;
    m_runs.erase(std::remove_if(m_runs.begin(), m_runs.end(),
                                [&](const auto& r) { return r->dir == dir; }),
                 m_runs.end());
    m_runs.push_back(std::move(run));
    while (int(m_runs.size()) > kKeep) m_runs.erase(m_runs.begin());
    emit loaded(dir);
}

std::shared_ptr<PastRun> PastRunLoader::read(const QString& dir, const std::atomic<bool>* cancel) {
    auto run = std::make_shared<PastRun>();
    run->dir = dir;
    QElapsedTimer clock;
    clock.start();
    try {
        RunRecord r = readRunDirectory(dir.toStdString());
        run->config = std::move(r.config);
        run->rows = std::move(r.metrics);
        while (thinRows(run->rows, PastRun::kRows)) {
        }
    } catch (const std::exception& e) {
        run->error = QString::fromUtf8(e.what());
    }
    run->rowsMs = double(clock.nsecsElapsed()) * 1e-6;
    clock.restart();
    const QString file = dir + QStringLiteral("/snapshots.jsonl");
    run->fileBytes = QFileInfo(file).size();
    run->snapshots = std::make_shared<RunSnapshots>(file, indexSnapshotFile(file, 0, nullptr, cancel));
    run->indexMs = double(clock.nsecsElapsed()) * 1e-6;
    return run;
}

}  // namespace h158::ui
