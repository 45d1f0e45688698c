// Records the window, or one panel, while a run trains: a frame at the window's redraw tick at
// most every kFrameIntervalMs, encoded on a thread of low priority (so training keeps the CPU)
// into an animated GIF (giflib: a 256-colour palette per frame by GifQuantizeBuffer, each frame's
// delay its real interval, looping forever by the NETSCAPE2.0 extension), or into an MP4 by
// ffmpeg where ffmpeg is on PATH. Recording ends with the run.
#pragma once

#include <QElapsedTimer>
#include <QImage>
#include <QObject>
#include <QPointer>
#include <QString>
#include <memory>

class QMenu;
class QWidget;

namespace h158::ui {

class MainWindow;
class FrameEncoder;

class Recorder : public QObject {
    Q_OBJECT
  public:
    static constexpr int kFrameIntervalMs = 150;  // ~7 frames per second
    // Frames waiting for the encoder; past this a tick grabs nothing (memory stays bounded).
    static constexpr int kMaxQueuedFrames = 12;

    // Records `target` (the window itself or one of its panels) into `path` (.gif or .mp4).
    Recorder(MainWindow* window, QWidget* target, QString path);
    ~Recorder() override;

    // Empty when `path` can be recorded here, else why not (format, ffmpeg missing).
    static QString checkPath(const QString& path);
    static bool ffmpegAvailable();

    // Grabs the first frame and then one at the redraw ticks; false (and *error) when the file
    // cannot be recorded.
    bool start(QString* error = nullptr);
    // Grabs a last frame, waits for the encoder and closes the file (for MP4, runs ffmpeg).
    // Called when the live run finishes; true when the file was written.
    bool finish(QString* error = nullptr);
    bool recording() const { return m_recording; }
    int framesGrabbed() const { return m_grabbed; }
    QString path() const { return m_path; }
    QWidget* target() const { return m_target; }

  signals:
    // The file is complete (ok) or failed (message says why).
    void finished(bool ok, const QString& message);

  private:
    void onTick();
    void grab();

    MainWindow* m_window;
    QPointer<QWidget> m_target;
    QString m_path;
    std::unique_ptr<FrameEncoder> m_encoder;
    QElapsedTimer m_sinceGrab;
    QElapsedTimer m_sinceStart;
    bool m_recording = false;
    int m_grabbed = 0;
    qint64 m_lastMs = 0;
    QImage m_pending;  // the last frame grabbed: its delay is known at the next grab
    int m_pendingDelayCs = 0;
};

// File menu: Record… (the window or one panel, into a GIF or MP4) and Stop recording.
void addRecordActions(MainWindow* w, QMenu* file);

}  // namespace h158::ui
