// Recording a run: frames grabbed on the GUI thread, encoded on a thread of low priority. A GIF
// frame gets its own 256-colour palette (its most frequent colours exact, giflib's median cut,
// GifQuantizeBuffer, for the rest: makePalette) and is written at once, so memory holds only the
// few frames waiting; an MP4's frames go to a temporary folder as PNGs and ffmpeg makes the video
// at the end.
#include "ui/recorder.h"

#include <fcntl.h>
#include <gif_lib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QInputDialog>
#include <QMenu>
#include <QMessageBox>
#include <QPixmap>
#include <QProcess>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ui/main_window.h"
#include "ui/panel.h"

namespace h158::ui {

// A queue of frames and the thread that writes them; subclasses write one format.
class FrameEncoder {
  public:
    explicit FrameEncoder(QString path) : m_path(std::move(path)) {}
    virtual ~FrameEncoder() {
        QString ignored;
        end(&ignored);
    }
    // Opens the output on the calling thread (so an unwritable path is known at once).
    virtual bool open(QString* error) = 0;
    void begin() {
        m_thread = std::thread([this] {
#ifdef __linux__
            // Nice 10 (this thread only): while training, the encoder gets about a tenth of a
            // contended core. Not SCHED_IDLE: frames left at the end would then wait for
            // whatever else the machine runs.
            setpriority(PRIO_PROCESS, id_t(gettid()), 10);
#endif
            loop();
        });
    }
    int queued() const {
        std::lock_guard lock(m_mutex);
        return int(m_queue.size());
    }
    void push(QImage frame, int delayCs) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back({std::move(frame), delayCs});
        }
        m_wake.notify_one();
    }
    // Stops the thread after its current frame, writes the frames still queued on the calling
    // thread (at its priority: the run is over), then closes the file; false with the first
    // error.
    bool end(QString* error) {
        if (!m_thread.joinable()) return m_ok;
        {
            std::lock_guard lock(m_mutex);
            m_closing = true;
        }
        m_wake.notify_one();
        m_thread.join();
        for (; m_ok && !m_queue.empty(); m_queue.pop_front()) writeOne(m_queue.front());
        m_queue.clear();
        if (m_ok && !close(&m_error)) m_ok = false;
        if (!m_ok && error) *error = m_error;
        return m_ok;
    }
    int written() const {
        return m_written;
    }

  protected:
    // On the encoder thread, frames in order; the delay (1/100 s) is how long it stays shown.
    virtual bool write(const QImage& frame, int delayCs, QString* error) = 0;
    virtual bool close(QString* error) = 0;
    QString m_path;

  private:
    struct Frame {
        QImage image;
        int delayCs;
    };
    void loop() {
        for (;;) {
            Frame f;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return !m_queue.empty() || m_closing; });
                if (m_closing) return;
                f = std::move(m_queue.front());
                m_queue.pop_front();
            }
            writeOne(f);
        }
    }
    void writeOne(const Frame& f) {
        if (m_ok && !write(f.image, f.delayCs, &m_error)) m_ok = false;
        if (m_ok) ++m_written;
    }

    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Frame> m_queue;
    bool m_closing = false;
    bool m_ok = true;  // written by the encoder thread, read after join()
    QString m_error;
    int m_written = 0;
};

namespace {

QString gifError(int code) {
    const char* s = GifErrorString(code);
    return QString::fromLatin1(s ? s : "unknown giflib error");
}

// The frame's palette and each pixel's index in it. A screen is mostly flat colour (backgrounds,
// the code colours' bands, a boundary's fills) plus antialiased edges: the kExact most frequent
// colours keep their exact value (so -1 / 0 / +1 look the same in every frame), and giflib's
// median cut (GifQuantizeBuffer, 5 bits per channel) gives the remaining entries for the rest.
// A frame with at most 256 colours is exact.
bool makePalette(std::vector<GifByteType>& r, std::vector<GifByteType>& g,
                 std::vector<GifByteType>& b, std::vector<GifByteType>& indices,
                 GifColorType* palette) {
    constexpr int kColours = 256, kExact = 128;
    const size_t n = r.size();
    auto key = [&](size_t i) { return uint32_t(r[i]) << 16 | uint32_t(g[i]) << 8 | b[i]; };
    std::unordered_map<uint32_t, uint32_t> counts;
    counts.reserve(4096);
    for (size_t i = 0; i < n; ++i) ++counts[key(i)];
    std::vector<std::pair<uint32_t, uint32_t>> byCount(counts.begin(), counts.end());
    const bool exactOnly = byCount.size() <= size_t(kColours);
    const size_t kept = exactOnly ? byCount.size() : size_t(kExact);
    std::partial_sort(byCount.begin(), byCount.begin() + std::ptrdiff_t(kept), byCount.end(),
                      [](const auto& a, const auto& c) { return a.second > c.second; });
    const int first = exactOnly ? 0 : kColours - kExact;  // where the exact colours start
    std::unordered_map<uint32_t, GifByteType> exact;
    for (size_t k = 0; k < kept; ++k) {
        const uint32_t c = byCount[k].first;
        palette[first + int(k)] = {GifByteType(c >> 16), GifByteType(c >> 8), GifByteType(c)};
        exact[c] = GifByteType(first + int(k));
    }
    if (!exactOnly) {
        int rest = kColours - kExact;
        if (GifQuantizeBuffer(unsigned(n), 1, &rest, r.data(), g.data(), b.data(), indices.data(),
                              palette) != GIF_OK)
            return false;
    }
    for (size_t i = 0; i < n; ++i)
        if (const auto it = exact.find(key(i)); it != exact.end()) indices[i] = it->second;
    return true;
}

class GifEncoder final : public FrameEncoder {
  public:
    using FrameEncoder::FrameEncoder;
    ~GifEncoder() override {
        QString ignored;
        end(&ignored);
        if (m_gif) EGifCloseFile(m_gif, nullptr);
    }
    bool open(QString* error) override {
        // Opened here with the usual mode (giflib's own open makes the file private to its
        // owner); giflib closes the descriptor.
        const int fd = ::open(QFile::encodeName(m_path).constData(),
                              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) {
            *error = QStringLiteral("%1: cannot write: %2").arg(m_path, qt_error_string(errno));
            return false;
        }
        int code = 0;
        m_gif = EGifOpenFileHandle(fd, &code);
        if (!m_gif) {
            ::close(fd);
            *error = QStringLiteral("%1: cannot write: %2").arg(m_path, gifError(code));
        }
        return m_gif != nullptr;
    }

  protected:
    bool write(const QImage& frame, int delayCs, QString* error) override {
        if (m_size.isEmpty() && !writeHeader(frame.size(), error)) return false;
        // Every frame of the screen's size (a window resized while recording is scaled).
        const QImage rgb = (frame.size() == m_size ? frame
                                                   : frame.scaled(m_size, Qt::IgnoreAspectRatio,
                                                                  Qt::SmoothTransformation))
                               .convertToFormat(QImage::Format_RGB888);
        const int w = m_size.width(), h = m_size.height();
        const size_t n = size_t(w) * size_t(h);
        std::vector<GifByteType> r(n), g(n), b(n), indices(n);
        for (int y = 0; y < h; ++y) {
            const uchar* line = rgb.constScanLine(y);
            for (int x = 0; x < w; ++x) {
                const size_t i = size_t(y) * size_t(w) + size_t(x);
                r[i] = line[3 * x];
                g[i] = line[3 * x + 1];
                b[i] = line[3 * x + 2];
            }
        }
        ColorMapObject* palette = GifMakeMapObject(256, nullptr);
        bool ok = palette && makePalette(r, g, b, indices, palette->Colors);
        GraphicsControlBlock gcb{};
        gcb.DisposalMode = DISPOSE_DO_NOT;
        gcb.DelayTime = std::max(2, delayCs);  // most viewers treat 0 or 1 as ~10
        gcb.TransparentColor = NO_TRANSPARENT_COLOR;
        GifByteType ext[4];
        const size_t extLen = EGifGCBToExtension(&gcb, ext);
        ok = ok && EGifPutExtension(m_gif, GRAPHICS_EXT_FUNC_CODE, int(extLen), ext) == GIF_OK;
        ok = ok && EGifPutImageDesc(m_gif, 0, 0, w, h, false, palette) == GIF_OK;
        for (int y = 0; ok && y < h; ++y)
            ok = EGifPutLine(m_gif, indices.data() + size_t(y) * size_t(w), w) == GIF_OK;
        if (palette) GifFreeMapObject(palette);
        if (!ok) *error = QStringLiteral("%1: %2").arg(m_path, gifError(m_gif->Error));
        return ok;
    }
    bool close(QString* error) override {
        int code = 0;
        if (!m_gif) return true;
        // No frame at all: still a valid (one blank pixel) file rather than a broken one.
        if (m_size.isEmpty() && !writeHeader(QSize(1, 1), error)) return false;
        const bool ok = EGifCloseFile(m_gif, &code) == GIF_OK;
        m_gif = nullptr;
        if (!ok) *error = QStringLiteral("%1: %2").arg(m_path, gifError(code));
        return ok;
    }

  private:
    bool writeHeader(QSize size, QString* error) {
        m_size = size;
        EGifSetGifVersion(m_gif, true);  // GIF89a: frame delays and the loop extension
        bool ok = EGifPutScreenDesc(m_gif, size.width(), size.height(), 8, 0, nullptr) == GIF_OK;
        // NETSCAPE2.0 application extension: sub-block 1, loop count 0 = forever.
        static const GifByteType kApp[] = {'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0'};
        static const GifByteType kLoop[] = {1, 0, 0};
        ok = ok && EGifPutExtensionLeader(m_gif, APPLICATION_EXT_FUNC_CODE) == GIF_OK;
        ok = ok && EGifPutExtensionBlock(m_gif, sizeof kApp, kApp) == GIF_OK;
        ok = ok && EGifPutExtensionBlock(m_gif, sizeof kLoop, kLoop) == GIF_OK;
        ok = ok && EGifPutExtensionTrailer(m_gif) == GIF_OK;
        if (!ok) *error = QStringLiteral("%1: %2").arg(m_path, gifError(m_gif->Error));
        return ok;
    }

    GifFileType* m_gif = nullptr;
    QSize m_size;
};

class Mp4Encoder final : public FrameEncoder {
  public:
    using FrameEncoder::FrameEncoder;
    ~Mp4Encoder() override {
        QString ignored;
        end(&ignored);
    }
    bool open(QString* error) override {
        if (!m_frames.isValid()) *error = QStringLiteral("cannot make a temporary folder");
        return m_frames.isValid();
    }

  protected:
    bool write(const QImage& frame, int, QString* error) override {
        // Even sizes: yuv420p needs them. The first frame's size holds for all.
        if (m_size.isEmpty()) m_size = QSize(frame.width() & ~1, frame.height() & ~1);
        const QImage f = frame.size() == m_size ? frame : frame.scaled(m_size);
        const QString file =
            m_frames.filePath(QStringLiteral("frame%1.png").arg(m_count, 5, 10, QLatin1Char('0')));
        if (!f.save(file, "PNG")) {
            *error = QStringLiteral("cannot write %1").arg(file);
            return false;
        }
        ++m_count;
        return true;
    }
    bool close(QString* error) override {
        if (m_count == 0) return true;
        QProcess ffmpeg;
        ffmpeg.setProcessChannelMode(QProcess::MergedChannels);
        ffmpeg.start(QStringLiteral("ffmpeg"),
                     {QStringLiteral("-y"), QStringLiteral("-loglevel"), QStringLiteral("error"),
                      QStringLiteral("-framerate"),
                      QStringLiteral("1000/%1").arg(Recorder::kFrameIntervalMs),
                      QStringLiteral("-i"), m_frames.filePath(QStringLiteral("frame%05d.png")),
                      QStringLiteral("-pix_fmt"), QStringLiteral("yuv420p"), m_path});
        if (!ffmpeg.waitForFinished(300000) || ffmpeg.exitStatus() != QProcess::NormalExit ||
            ffmpeg.exitCode() != 0) {
            *error = QStringLiteral("ffmpeg failed: %1")
                         .arg(QString::fromLocal8Bit(ffmpeg.readAll()).trimmed());
            return false;
        }
        return true;
    }

  private:
    QTemporaryDir m_frames;
    QSize m_size;
    int m_count = 0;
};

}  // namespace

Recorder::Recorder(MainWindow* window, QWidget* target, QString path)
    : QObject(window), m_window(window), m_target(target), m_path(std::move(path)) {
    setObjectName(QStringLiteral("recorder"));
}

Recorder::~Recorder() = default;

bool Recorder::ffmpegAvailable() {
    return !QStandardPaths::findExecutable(QStringLiteral("ffmpeg")).isEmpty();
}

QString Recorder::checkPath(const QString& path) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("gif")) return {};
    if (suffix == QLatin1String("mp4"))
        return ffmpegAvailable() ? QString()
                                 : tr("%1: MP4 needs ffmpeg on PATH, which is not installed; "
                                      "record a .gif instead")
                                       .arg(path);
    return tr("%1: record to a .gif (or, with ffmpeg installed, an .mp4) file").arg(path);
}

bool Recorder::start(QString* error) {
    QString err = checkPath(m_path);
    if (err.isEmpty()) {
        if (QFileInfo(m_path).suffix().toLower() == QLatin1String("mp4"))
            m_encoder = std::make_unique<Mp4Encoder>(m_path);
        else
            m_encoder = std::make_unique<GifEncoder>(m_path);
        if (!m_encoder->open(&err)) m_encoder.reset();
    }
    if (!m_encoder) {
        if (error) *error = err;
        return false;
    }
    m_encoder->begin();
    m_recording = true;
    m_grabbed = 0;
    m_sinceStart.start();
    connect(m_window->redrawTimer(), &QTimer::timeout, this, &Recorder::onTick);
    // The run's last rows reach the panels within a live redraw interval or two: the last
    // frame is grabbed after that (a caller that has just redrawn calls finish() itself).
    connect(m_window, &MainWindow::runFinished, this, [this] {
        QTimer::singleShot(2 * MainWindow::kLivePanelIntervalMs + 50, this, [this] {
            if (m_recording) finish();
        });
    });
    grab();
    return true;
}

void Recorder::onTick() {
    if (!m_recording || (m_sinceGrab.isValid() && m_sinceGrab.elapsed() < kFrameIntervalMs)) return;
    if (m_encoder->queued() >= kMaxQueuedFrames) return;  // the encoder is behind: skip a frame
    grab();
}

void Recorder::grab() {
    if (!m_target) return;
    QImage frame = m_target->grab().toImage();
    const qint64 now = m_sinceStart.elapsed();
    m_sinceGrab.start();
    // A frame stays on screen until the next was grabbed: its delay is the real interval (in
    // 1/100 s), so the animation runs at the speed the run did.
    if (m_grabbed > 0) m_pendingDelayCs = int((now - m_lastMs + 5) / 10);
    if (!m_pending.isNull()) m_encoder->push(std::move(m_pending), m_pendingDelayCs);
    m_pending = std::move(frame);
    m_lastMs = now;
    ++m_grabbed;
}

bool Recorder::finish(QString* error) {
    if (!m_recording) return false;
    grab();
    // The last frame (the run's end) stays two seconds before the animation starts again.
    m_encoder->push(std::move(m_pending), 200);
    m_pending = QImage();
    m_recording = false;
    disconnect(m_window->redrawTimer(), nullptr, this, nullptr);
    QString err;
    const bool ok = m_encoder->end(&err);
    const QString message =
        ok ? tr("Recorded %1 frames to %2").arg(m_encoder->written()).arg(m_path) : err;
    if (error) *error = message;
    emit finished(ok, message);
    return ok;
}

void addRecordActions(MainWindow* w, QMenu* file) {
    QAction* record = file->addAction(QObject::tr("&Record…"));
    record->setObjectName(QStringLiteral("record"));
    record->setToolTip(
        QObject::tr("Record the window or one panel as an animated GIF (or MP4 "
                    "with ffmpeg) until the run ends"));
    QAction* stop = file->addAction(QObject::tr("Stop recordin&g"));
    stop->setEnabled(false);
    QObject::connect(record, &QAction::triggered, w, [w, record, stop] {
        QStringList targets{QObject::tr("The whole window")};
        QList<QWidget*> widgets{w};
        for (Panel* p : w->panels())
            if (p->isVisible()) {
                targets << p->title();
                widgets << p;
            }
        bool ok = false;
        const QString which = QInputDialog::getItem(
            w, QObject::tr("Record"), QObject::tr("Record what:"), targets, 0, false, &ok);
        if (!ok) return;
        QString filter = QObject::tr("Animated GIF (*.gif)");
        if (Recorder::ffmpegAvailable()) filter += QObject::tr(";;MP4 video (*.mp4)");
        const QString path = QFileDialog::getSaveFileName(w, QObject::tr("Record to"),
                                                          QStringLiteral("hybrid158.gif"), filter);
        if (path.isEmpty()) return;
        auto* recorder = new Recorder(w, widgets.value(targets.indexOf(which), w), path);
        QString err;
        if (!recorder->start(&err)) {
            delete recorder;
            QMessageBox::warning(w, QObject::tr("Record"), err);
            return;
        }
        record->setEnabled(false);
        stop->setEnabled(true);
        QObject::connect(stop, &QAction::triggered, recorder, [recorder] { recorder->finish(); });
        QObject::connect(recorder, &Recorder::finished, w,
                         [w, record, stop, recorder](bool done, const QString& message) {
                             record->setEnabled(true);
                             stop->setEnabled(false);
                             QObject::disconnect(stop, nullptr, recorder, nullptr);
                             recorder->deleteLater();
                             if (done)
                                 w->statusBar()->showMessage(message, 10000);
                             else
                                 QMessageBox::warning(w, QObject::tr("Record"), message);
                         });
    });
}

}  // namespace h158::ui
