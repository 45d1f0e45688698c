// Recording a run: a short spirals run recorded from the window (and from one panel) ends with
// the run and leaves an animated GIF that giflib itself decodes: at least two frames of the
// recorded widget's size, each with a frame delay, and the NETSCAPE2.0 loop extension.
#include <gif_lib.h>

#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <cstring>

#include "gui_test_util.h"
#include "ui/config_panel.h"
#include "ui/loss_panel.h"
#include "ui/recorder.h"

using h158::ui::MainWindow;
using h158::ui::Recorder;

namespace {
struct Decoded {
    int width = 0, height = 0, frames = 0;
    bool loops = false;       // NETSCAPE2.0 with loop count 0 before the first frame
    int framesWithDelay = 0;  // frames with a graphics control block and a delay > 0
    QImage last;              // the last frame as decoded
};

Decoded decode(const QString& path) {
    Decoded d;
    int err = 0;
    GifFileType* gif = DGifOpenFileName(QFile::encodeName(path).constData(), &err);
    if (!gif) return d;
    if (DGifSlurp(gif) == GIF_OK) {
        d.width = gif->SWidth;
        d.height = gif->SHeight;
        d.frames = gif->ImageCount;
        for (int i = 0; i < gif->ImageCount; ++i) {
            const SavedImage& im = gif->SavedImages[i];
            if (im.ImageDesc.Width != d.width || im.ImageDesc.Height != d.height) d.width = -1;
            for (int e = 0; e < im.ExtensionBlockCount; ++e) {
                const ExtensionBlock& b = im.ExtensionBlocks[e];
                if (b.Function == APPLICATION_EXT_FUNC_CODE && b.ByteCount == 11 &&
                    std::memcmp(b.Bytes, "NETSCAPE2.0", 11) == 0 &&
                    e + 1 < im.ExtensionBlockCount) {
                    const ExtensionBlock& sub = im.ExtensionBlocks[e + 1];
                    d.loops = d.loops || (i == 0 && sub.ByteCount == 3 && sub.Bytes[0] == 1 &&
                                          sub.Bytes[1] == 0 && sub.Bytes[2] == 0);
                }
            }
            if (i == gif->ImageCount - 1) {
                const ColorMapObject* map =
                    im.ImageDesc.ColorMap ? im.ImageDesc.ColorMap : gif->SColorMap;
                d.last = QImage(im.ImageDesc.Width, im.ImageDesc.Height, QImage::Format_RGB32);
                for (int y = 0; map && y < im.ImageDesc.Height; ++y)
                    for (int x = 0; x < im.ImageDesc.Width; ++x) {
                        const GifColorType c =
                            map->Colors[im.RasterBits[y * im.ImageDesc.Width + x]];
                        d.last.setPixel(x, y, qRgb(c.Red, c.Green, c.Blue));
                    }
            }
            GraphicsControlBlock gcb;
            if (DGifSavedExtensionToGCB(gif, i, &gcb) == GIF_OK && gcb.DelayTime > 0)
                ++d.framesWithDelay;
        }
    }
    DGifCloseFile(gif, &err);
    return d;
}
}  // namespace

class TestGuiRecord : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

    // Records `target` (null: the window) through a short spirals run; the decoded file.
    Decoded recordRun(const QString& name, bool panel, QSize* size, QImage* shown = nullptr) {
        h158::ui::MainWindowOptions o;
        o.workspace = m_tmp.filePath(QStringLiteral("runs"));
        o.useSettings = false;
        MainWindow w(o);
        if (!w.configPanel()->selectPreset(QStringLiteral("spirals"))) return {};
        w.configPanel()->setFieldText(QStringLiteral("run.steps"), QStringLiteral("200"));
        w.show();
        if (!QTest::qWaitForWindowExposed(&w)) return {};
        QWidget* target = panel ? static_cast<QWidget*>(w.lossPanel()) : &w;
        const QString path = m_tmp.filePath(name);
        auto* recorder = new Recorder(&w, target, path);
        QSignalSpy done(recorder, &Recorder::finished);
        QString err;
        if (!recorder->start(&err)) {
            qWarning("%s", qPrintable(err));
            return {};
        }
        QSignalSpy finished(&w, &MainWindow::runFinished);
        w.startRun();
        // Recording ends with the run, by itself.
        if (!done.wait(120000) && done.isEmpty()) return {};
        if (!done.first().at(0).toBool()) {
            qWarning("%s", qPrintable(done.first().at(1).toString()));
            return {};
        }
        if (finished.isEmpty()) return {};  // it ended because the run did
        *size = target->size();
        if (shown) *shown = target->grab().toImage().convertToFormat(QImage::Format_RGB32);
        return decode(path);
    }

  private slots:
    void windowToGif() {
        QSize size;
        QImage shown;
        const Decoded d = recordRun(QStringLiteral("window.gif"), false, &size, &shown);
        QVERIFY(d.frames >= 2);
        QCOMPARE(QSize(d.width, d.height), size);
        QVERIFY(d.loops);
        QCOMPARE(d.framesWithDelay, d.frames);
        // The last frame is the window at the run's end; a screen's flat colours (most of its
        // pixels) keep their exact value through the 256-colour palette.
        QCOMPARE(d.last.size(), shown.size());
        qint64 same = 0;
        for (int y = 0; y < shown.height(); ++y)
            for (int x = 0; x < shown.width(); ++x)
                same += d.last.pixel(x, y) == shown.pixel(x, y) ? 1 : 0;
        const double fraction = double(same) / double(shown.width() * shown.height());
        qInfo("last frame: %.1f %% of the pixels exact", 100 * fraction);
        QVERIFY2(fraction > 0.9, qPrintable(QString::number(fraction)));
    }

    void panelToGif() {
        QSize size;
        const Decoded d = recordRun(QStringLiteral("loss.gif"), true, &size);
        QVERIFY(d.frames >= 2);
        QCOMPARE(QSize(d.width, d.height), size);
        QVERIFY(d.loops);
    }

    void refusesUnknownFormats() {
        QVERIFY(Recorder::checkPath(QStringLiteral("run.gif")).isEmpty());
        QVERIFY(Recorder::checkPath(QStringLiteral("run.png")).contains(QStringLiteral(".gif")));
        const QString mp4 = Recorder::checkPath(QStringLiteral("run.mp4"));
        QCOMPARE(mp4.isEmpty(), Recorder::ffmpegAvailable());
        if (!Recorder::ffmpegAvailable()) QVERIFY(mp4.contains(QStringLiteral("ffmpeg")));
    }
};

QTEST_MAIN(TestGuiRecord)
#include "test_gui_record.moc"
