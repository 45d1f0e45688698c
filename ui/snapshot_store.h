// A run's snapshots by kind and step, so the state panels can show the run at any step (the
// rewind bar): the live run's as they reach the window, held in memory under a bound, and a past
// run's from an index of DIR/snapshots.jsonl (step, kind and byte range of each line, found
// without parsing), each line parsed when first shown and a few kept parsed. Nothing here runs on
// the run worker's thread; a past run is read on a loader thread of its own.
#pragma once

#include <QObject>
#include <QString>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config.h"
#include "core/train/metrics.h"

class QThread;

namespace h158::ui {

// One line of a snapshots.jsonl: its top-level step and kind, and where it is.
struct SnapshotLine {
    int64_t step = 0;
    std::string kind;
    int64_t offset = 0;  // of its first byte
    int64_t length = 0;  // without the newline
};

// Indexes the complete lines of `path` from byte `from` on: the top-level "step" and "kind" of
// each (a scan that tracks strings and nesting, no JSON values built), in file order. Lines
// without both are skipped; a last line without its newline (being written) is left for later.
// *end gets the offset after the last complete line. Stops early (returning what it has) when
// *cancel becomes true. An unreadable file gives no lines.
std::vector<SnapshotLine> indexSnapshotFile(const QString& path, int64_t from = 0,
                                            int64_t* end = nullptr,
                                            const std::atomic<bool>* cancel = nullptr);
// The snapshot on one line (its data without step and kind, as the trainer made it). Throws
// nlohmann::json::exception on a line that is not a JSON object with step and kind.
Snapshot parseSnapshotLine(std::string_view line);
// About how many bytes a JSON value holds in memory (nodes, strings, containers): the bounds'
// measure.
size_t approxBytes(const nlohmann::json& j);

class RunSnapshots {
  public:
    using Ptr = std::shared_ptr<const Snapshot>;
    // The live run's snapshots are kept under this many (estimated) bytes: past it every second
    // snapshot of each kind is dropped (the first and newest stay), so a long run keeps an even
    // spread. Precision and samples snapshots are small and all kept (the panels draw their
    // history).
    static constexpr size_t kLiveBytes = size_t(128) << 20;
    // A past run's lines stay parsed up to this many bytes; the least recently shown go first.
    static constexpr size_t kParsedBytes = size_t(48) << 20;

    // Empty, in memory: add() fills it.
    RunSnapshots() = default;
    // A snapshots.jsonl and its index: lines are read and parsed when asked for.
    RunSnapshots(const QString& file, const std::vector<SnapshotLine>& index);

    // A snapshot of the live run, in step order (one at an earlier step than the kind's newest
    // replaces those from its step on: a run continued from a checkpoint).
    void add(Ptr s);

    // The newest snapshot of `kind` at or before `step`; null when there is none.
    Ptr at(const std::string& kind, int64_t step);
    // The last `most` snapshots of `kind` at or before `step`, oldest first.
    std::vector<Ptr> upTo(const std::string& kind, int64_t step, size_t most);
    // The largest step at or before `step` holding a snapshot of any kind; -1 when none.
    int64_t stepAtOrBefore(int64_t step) const;
    int64_t lastStep() const;  // the newest snapshot's step, -1 when none
    std::vector<std::string> kinds() const;
    size_t count() const;           // snapshots held or indexed
    size_t count(const std::string& kind) const;
    size_t bytes() const { return m_bytes; }  // estimated bytes of the parsed snapshots held
    bool fromFile() const { return !m_file.isEmpty(); }
    // Forgets the parsed lines (a past run no longer shown); they are read again when asked for.
    void releaseParsed();
    QString error() const { return m_error; }  // the last line that did not read, and why

  private:
    struct Entry {
        int64_t step = 0;
        int64_t offset = -1, length = 0;  // in the file (-1: in memory only)
        Ptr snap;
        size_t bytes = 0;
        uint64_t used = 0;  // when last asked for (least recently used goes first)
    };
    Ptr load(Entry& e);
    void thin();
    void evict(const Entry* keep);

    QString m_file;  // empty: in memory
    std::map<std::string, std::vector<Entry>> m_kinds;  // each sorted by step
    size_t m_bytes = 0;
    uint64_t m_clock = 0;
    QString m_error;
};

// A past run as the rewind bar shows it.
struct PastRun {
    QString dir;
    Config config;
    // metrics.csv, thinned to kRows like a live run's rows (history_bounds.h): the state panels
    // take only the rows just before the step shown
    std::vector<StepMetrics> rows;
    static constexpr size_t kRows = size_t(1) << 14;
    std::shared_ptr<RunSnapshots> snapshots;
    QString error;           // why the run did not read (rows and snapshots may then be empty)
    int64_t fileBytes = 0;   // the size of snapshots.jsonl when it was indexed
    double indexMs = 0;      // indexing snapshots.jsonl on the loader thread
    double rowsMs = 0;       // reading config.json and metrics.csv
};

// Reads past runs on a thread of its own (one per run asked for) and keeps the last few.
class PastRunLoader : public QObject {
    Q_OBJECT
  public:
    static constexpr int kKeep = 4;  // past runs kept read (the oldest asked for goes first)

    explicit PastRunLoader(QObject* parent = nullptr);
    // Cancels the reads under way and waits for their threads.
    ~PastRunLoader() override;

    // The run in `dir` as read, null until loaded() says it is.
    std::shared_ptr<PastRun> get(const QString& dir) const;
    // Starts reading `dir` unless it is read (and its snapshots.jsonl has not grown since) or
    // being read; loaded(dir) follows.
    void load(const QString& dir);
    bool loading(const QString& dir) const { return m_threads.count(dir) > 0; }
    // Reads `dir` on the calling thread (what the loader thread runs).
    static std::shared_ptr<PastRun> read(const QString& dir, const std::atomic<bool>* cancel);

  signals:
    void loaded(const QString& dir);

  private:
    struct Job {
        QThread* thread = nullptr;
        std::shared_ptr<std::atomic<bool>> cancel;
        std::shared_ptr<std::shared_ptr<PastRun>> result;
    };
    void finish(const QString& dir);  // a loader thread ended: keep what it read

    std::map<QString, Job> m_threads;
    std::vector<std::shared_ptr<PastRun>> m_runs;  // oldest first
};

}  // namespace h158::ui
