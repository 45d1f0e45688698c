// Scenario files: reading with a message for every wrong field, writing, and applying one to the
// window. The lesson part goes through MainWindow::openLesson (the lessons dock's own loader).
#include "ui/scenario.h"

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QScreen>
#include <QTabWidget>
#include <algorithm>

#include "core/base/errors.h"
#include "core/config/config.h"
#include "core/train/lesson.h"
#include "ui/config_panel.h"
#include "ui/lessons_dock.h"
#include "ui/main_window.h"

namespace h158::ui {

namespace {

const char* const kPageNames[] = {"training", "mechanism"};

[[noreturn]] void fail(const QString& file, const std::string& field, const std::string& what) {
    throw FileError(QFileInfo(file).fileName().toStdString() + ": field '" + field + "': " + what);
}

double number(const nlohmann::json& j, const QString& file, const std::string& field, double lo,
              double hi) {
    if (!j.is_number() || !(j.get<double>() >= lo && j.get<double>() <= hi))
        fail(file, field,
             "must be a number from " + formatNumber(lo) + " to " + formatNumber(hi) + ", got " +
                 j.dump());
    return j.get<double>();
}

int64_t integer(const nlohmann::json& j, const QString& file, const std::string& field, int64_t lo,
                int64_t hi) {
    if (!j.is_number_integer() || j.get<int64_t>() < lo || j.get<int64_t>() > hi)
        fail(file, field,
             "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                 ", got " + j.dump());
    return j.get<int64_t>();
}

QString text(const nlohmann::json& j, const QString& file, const std::string& field) {
    if (!j.is_string()) fail(file, field, "must be a string, got " + j.dump());
    return QString::fromStdString(j.get<std::string>());
}

// The object at `field`, with only the keys in `allowed`.
const nlohmann::json& object(const nlohmann::json& j, const QString& file, const std::string& field,
                             std::initializer_list<const char*> allowed) {
    if (!j.is_object()) fail(file, field, "must be an object, got " + j.dump());
    for (const auto& item : j.items()) {
        const std::string& key = item.key();  // (clang 14 cannot capture a structured binding)
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
            fail(file, field.empty() ? key : field + "." + key, "unknown key");
    }
    return j;
}

// The lesson open in the Lessons dock: a built-in one by name, else its file.
void currentLessonOf(const MainWindow& w, QString* source, int* page) {
    const LessonsDock* dock = w.lessonsDock();
    const Lesson* lesson = dock ? dock->lesson() : nullptr;
    if (!lesson) return;
    const bool builtIn = lesson->source.rfind("built-in", 0) == 0;
    *source = QString::fromStdString(builtIn ? lesson->name : lesson->source);
    *page = dock->page();
}

QTabWidget* pagesOf(const MainWindow& w) {
    return w.findChild<QTabWidget*>(QStringLiteral("centrePages"));
}

}  // namespace

Scenario scenarioFromJson(const nlohmann::json& j, const QString& file) {
    if (!j.is_object() || !j.contains("hybrid158_scenario"))
        fail(file, "hybrid158_scenario",
             "missing: not a scenario file (a config file opens with "
             "--config)");
    object(j, file, "",
           {"hybrid158_scenario", "preset", "config", "seed", "window", "page", "presenter",
            "lesson"});
    Scenario s;
    integer(j["hybrid158_scenario"], file, "hybrid158_scenario", 1, kScenarioVersion);
    if (j.contains("preset")) {
        s.preset = text(j["preset"], file, "preset");
        bool known = false;
        for (const PresetInfo& p : presetList()) known = known || p.name == s.preset.toStdString();
        if (!known) fail(file, "preset", "unknown preset '" + s.preset.toStdString() + "'");
    }
    if (j.contains("config")) {
        if (!j["config"].is_object()) fail(file, "config", "must be an object");
        try {  // the core names the bad key; say that it is inside this file's "config"
            fromJson(j["config"], Config{}, "config");
        } catch (const std::exception& e) {
            fail(file, "config", e.what());
        }
        s.config = j["config"];
    }
    if (j.contains("seed")) s.seed = integer(j["seed"], file, "seed", 0, INT64_MAX);
    if (j.contains("window")) {
        const auto& w = object(j["window"], file, "window", {"width", "height", "state"});
        if (w.contains("width") != w.contains("height"))
            fail(file, w.contains("width") ? "window.height" : "window.width",
                 "missing (give both width and height)");
        if (w.contains("width"))
            s.windowSize = QSize(int(integer(w["width"], file, "window.width", 200, 16384)),
                                 int(integer(w["height"], file, "window.height", 150, 16384)));
        if (w.contains("state")) {
            const QByteArray b64 = text(w["state"], file, "window.state").toLatin1();
            const auto result =
                QByteArray::fromBase64Encoding(b64, QByteArray::AbortOnBase64DecodingErrors);
            if (!result || result.decoded.isEmpty())
                fail(file, "window.state", "must be base64 (QMainWindow::saveState)");
            s.windowState = result.decoded;
        }
    }
    if (j.contains("page")) {
        const QString p = text(j["page"], file, "page");
        s.page = -1;
        for (int i = 0; i < 2; ++i)
            if (p == QLatin1String(kPageNames[i])) s.page = i;
        if (s.page < 0)
            fail(file, "page",
                 "must be \"training\" or \"mechanism\", got \"" + p.toStdString() + "\"");
    }
    if (j.contains("presenter")) {
        const auto& p = object(j["presenter"], file, "presenter",
                               {"enabled", "font_scale", "line_scale", "shown"});
        if (p.contains("enabled")) {
            if (!p["enabled"].is_boolean())
                fail(file, "presenter.enabled", "must be true or false");
            s.presenter = p["enabled"].get<bool>();
        }
        if (p.contains("font_scale"))
            s.presenterSettings.fontScale =
                number(p["font_scale"], file, "presenter.font_scale", PresenterSettings::kMinScale,
                       PresenterSettings::kMaxFontScale);
        if (p.contains("line_scale"))
            s.presenterSettings.lineScale =
                number(p["line_scale"], file, "presenter.line_scale", PresenterSettings::kMinScale,
                       PresenterSettings::kMaxLineScale);
        if (p.contains("shown")) {
            if (!p["shown"].is_array()) fail(file, "presenter.shown", "must be a list of ids");
            s.presenterSettings.shown.clear();  // [] shows everything
            for (size_t i = 0; i < p["shown"].size(); ++i)
                s.presenterSettings.shown
                    << text(p["shown"][i], file, "presenter.shown[" + std::to_string(i) + "]");
        }
    }
    if (j.contains("lesson")) {
        const auto& l = object(j["lesson"], file, "lesson", {"source", "page"});
        if (!l.contains("source")) fail(file, "lesson.source", "missing");
        s.lessonSource = text(l["source"], file, "lesson.source");
        if (s.lessonSource.isEmpty()) fail(file, "lesson.source", "must not be empty");
        if (l.contains("page"))
            s.lessonPage = int(integer(l["page"], file, "lesson.page", 1, 9999));
    }
    return s;
}

nlohmann::json scenarioToJson(const Scenario& s) {
    nlohmann::json j;
    j["hybrid158_scenario"] = kScenarioVersion;
    if (!s.preset.isEmpty()) j["preset"] = s.preset.toStdString();
    if (!s.config.is_null()) j["config"] = s.config;
    if (s.seed) j["seed"] = *s.seed;
    nlohmann::json w = nlohmann::json::object();
    if (s.windowSize.isValid()) {
        w["width"] = s.windowSize.width();
        w["height"] = s.windowSize.height();
    }
    if (!s.windowState.isEmpty()) w["state"] = s.windowState.toBase64().toStdString();
    if (!w.empty()) j["window"] = w;
    j["page"] = kPageNames[std::clamp(s.page, 0, 1)];
    nlohmann::json shown = nlohmann::json::array();
    for (const QString& id : s.presenterSettings.shown) shown.push_back(id.toStdString());
    j["presenter"] = {{"enabled", s.presenter},
                      {"font_scale", s.presenterSettings.fontScale},
                      {"line_scale", s.presenterSettings.lineScale},
                      {"shown", shown}};
    if (!s.lessonSource.isEmpty())
        j["lesson"] = {{"source", s.lessonSource.toStdString()}, {"page", s.lessonPage}};
    return j;
}

bool readScenario(const QString& path, Scenario* out, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) *error = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
        return false;
    }
    try {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(f.readAll().toStdString());
        } catch (const nlohmann::json::parse_error& e) {
            throw FileError(QFileInfo(path).fileName().toStdString() + ": not JSON: " + e.what());
        }
        *out = scenarioFromJson(j, path);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool writeScenario(const QString& path, const Scenario& s, QString* error) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
        if (error) *error = QStringLiteral("%1: cannot write: %2").arg(path, f.errorString());
        return false;
    }
    f.write(QByteArray::fromStdString(scenarioToJson(s).dump(2) + "\n"));
    return f.error() == QFileDevice::NoError;
}

Scenario captureScenario(const MainWindow& w) {
    Scenario s;
    const Config& cfg = w.configPanel()->config();
    const QString preset = w.configPanel()->presetName();
    for (const PresetInfo& p : presetList())
        if (p.name == preset.toStdString()) s.preset = preset;
    s.config = toJson(cfg);
    s.seed = cfg.run.seed;
    s.windowSize = w.size();
    s.windowState = w.presenter()->windowState();
    if (const QTabWidget* pages = pagesOf(w)) s.page = std::max(0, pages->currentIndex());
    s.presenter = w.presenter()->active();
    s.presenterSettings = w.presenter()->settings();
    currentLessonOf(w, &s.lessonSource, &s.lessonPage);
    return s;
}

bool applyScenario(MainWindow& w, const Scenario& s, QString* error) {
    ConfigPanel* form = w.configPanel();
    if (!s.preset.isEmpty()) form->selectPreset(s.preset);
    if (!s.config.is_null() || s.seed) {
        nlohmann::json cfg = s.config.is_null() ? toJson(form->config()) : s.config;
        if (s.seed) cfg["run"]["seed"] = *s.seed;
        try {
            // Keys the file does not give keep the preset's (a saved file gives them all).
            form->setConfig(fromJson(cfg, form->config(), "scenario config"));
        } catch (const std::exception& e) {
            if (error) *error = QString::fromStdString(e.what());
            return false;
        }
    }
    w.presenter()->setActive(false);
    if (s.windowSize.isValid()) {
        QSize size = s.windowSize;
        if (const QScreen* screen = w.screen())
            size = size.boundedTo(screen->availableGeometry().size());
        w.resize(size);
    }
    if (!s.windowState.isEmpty() && !w.restoreState(s.windowState)) {
        if (error) *error = QStringLiteral("window.state: not a state this version can restore");
        return false;
    }
    if (QTabWidget* pages = pagesOf(w))
        pages->setCurrentIndex(std::min(s.page, pages->count() - 1));
    w.presenter()->setSettings(s.presenterSettings);
    w.presenter()->setActive(s.presenter);
    if (!s.lessonSource.isEmpty()) {
        QString why;
        if (!w.openLesson(s.lessonSource, s.lessonPage, &why)) {
            if (error) *error = QStringLiteral("lesson: %1").arg(why);
            return false;
        }
    }
    return true;
}

bool openScenario(MainWindow& w, const QString& path, QString* error) {
    Scenario s;
    if (!readScenario(path, &s, error)) return false;
    if (applyScenario(w, s, error)) return true;
    if (error) *error = QFileInfo(path).fileName() + QStringLiteral(": ") + *error;
    return false;
}

void addScenarioActions(MainWindow* w, QMenu* file) {
    file->addSeparator();
    file->addAction(QObject::tr("Save sce&nario…"), w, [w] {
        const QString f = QFileDialog::getSaveFileName(w, QObject::tr("Save scenario"),
                                                       QStringLiteral("demo.scenario.json"),
                                                       QObject::tr("Scenario (*.json)"));
        QString err;
        if (!f.isEmpty() && !writeScenario(f, captureScenario(*w), &err))
            QMessageBox::warning(w, QObject::tr("Save scenario"), err);
    });
    file->addAction(QObject::tr("Open scenar&io…"), w, [w] {
        const QString f = QFileDialog::getOpenFileName(w, QObject::tr("Open scenario"), QString(),
                                                       QObject::tr("Scenario (*.json)"));
        QString err;
        if (!f.isEmpty() && !openScenario(*w, f, &err))
            QMessageBox::warning(w, QObject::tr("Open scenario"), err);
    });
}

}  // namespace h158::ui
