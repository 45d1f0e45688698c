// Scenario files: a demo as the teacher set it up (configuration, seed, window layout, centre
// page, presenter settings and the chosen panels, the lesson and its page), saved as JSON so the
// same demo opens the same way on another machine (`hybrid158 --scenario FILE`). The format is
// documented in README.md, "Scenario files".
#pragma once

#include <QByteArray>
#include <QSize>
#include <QString>
#include <nlohmann/json.hpp>
#include <optional>

#include "ui/presenter.h"

class QMenu;

namespace h158::ui {

class MainWindow;

inline constexpr int kScenarioVersion = 1;

struct Scenario {
    QString preset;               // the form's preset (empty: none, or from a file)
    nlohmann::json config;        // the full configuration (null: keep the window's)
    std::optional<int64_t> seed;  // run.seed, over the configuration's
    QSize windowSize;             // invalid: keep
    QByteArray windowState;       // QMainWindow::saveState() (docks, toolbar); empty: keep
    int page = 0;                 // MainWindow::Page
    bool presenter = false;       // presenter mode on
    PresenterSettings presenterSettings;
    QString lessonSource;  // a built-in lesson's name or a lesson file; empty: none
    int lessonPage = 1;    // 1-based page of that lesson
};

// The file's JSON. Every key is checked: a wrong one throws h158::FileError whose message names
// `file` and the field ("demo.json: field 'presenter.font_scale': ...").
Scenario scenarioFromJson(const nlohmann::json& j, const QString& file);
nlohmann::json scenarioToJson(const Scenario& s);
// Reads and checks a file; false with the message in *error (naming the file and field).
bool readScenario(const QString& path, Scenario* out, QString* error);
bool writeScenario(const QString& path, const Scenario& s, QString* error);

// What the window shows now, as a scenario (the lesson it opened last, if any).
Scenario captureScenario(const MainWindow& w);
// Puts the window in the scenario's state: configuration and seed first, then layout, page,
// presenter settings, and the lesson. False with a message when a part cannot be applied.
bool applyScenario(MainWindow& w, const Scenario& s, QString* error);
// readScenario + applyScenario.
bool openScenario(MainWindow& w, const QString& path, QString* error);

// File menu: Save scenario…, Open scenario….
void addScenarioActions(MainWindow* w, QMenu* file);

}  // namespace h158::ui
