// Presenter mode: one switch that makes the workbench readable from the back of a classroom. Fonts
// grow by a scale, plot lines, markers and axis labels grow in every plot, and only the panels,
// docks and controls the teacher chose stay on screen. Colours do not change (the Okabe-Ito and
// code colours of theme.h stay). Leaving the mode puts back what it changed.
#pragma once

#include <QFont>
#include <QList>
#include <QMetaObject>
#include <QObject>
#include <QPointer>
#include <QStringList>

class QAction;
class QCustomPlot;
class QMenu;
class QWidget;

namespace h158::ui {

class MainWindow;

struct PresenterSettings {
    static constexpr double kMinScale = 1.0, kMaxFontScale = 3.0, kMaxLineScale = 4.0;
    double fontScale = 1.6;  // every font of the window and its plots, x this
    double lineScale = 2.0;  // pen widths of curves, markers, axis lines, x this
    // Ids of what stays on screen (panels, docks, "toolbar", "status"); empty: everything. By
    // default the views a class looks at, without the form and the runs table.
    QStringList shown = {
        QStringLiteral("loss"),   QStringLiteral("boundary"), QStringLiteral("samples"),
        QStringLiteral("quant"),  QStringLiteral("weights"),  QStringLiteral("weightmap"),
        QStringLiteral("flips"),  QStringLiteral("network"),  QStringLiteral("stages"),
        QStringLiteral("kmeans"), QStringLiteral("lessons"),  QStringLiteral("toolbar"),
        QStringLiteral("status")};
    bool operator==(const PresenterSettings&) const = default;
};

// One item a teacher can show or hide: its id (the panel's or dock's objectName, see ids in
// choices()) and its title.
struct PresenterChoice {
    QString id;
    QString title;
    QWidget* widget = nullptr;  // the panel, the dock, the toolbar or the status bar
};

class Presenter : public QObject {
    Q_OBJECT
  public:
    explicit Presenter(MainWindow* window);

    bool active() const { return m_active; }
    const PresenterSettings& settings() const { return m_settings; }
    // Applies at once when the mode is on.
    void setSettings(const PresenterSettings& s);
    void setActive(bool on);
    // What can be chosen: every panel (Training and Mechanism pages), every dock, the run
    // toolbar ("toolbar") and the status bar ("status").
    QList<PresenterChoice> choices() const;
    // Whether the window's layout may show `w` (a panel or dock): always outside presenter
    // mode, else only when chosen (or nothing was chosen).
    bool shows(const QWidget* w) const;
    // The View menu's entries: Presenter mode (Ctrl+Shift+P, F12), Presenter settings….
    void addMenuActions(QMenu* view);
    QAction* toggleAction() const { return m_toggle; }
    // The window's dock and toolbar state outside presenter mode (what leaving it restores).
    QByteArray windowState() const;
    // Opens the settings dialog (scales, chosen panels); true when accepted.
    bool editSettings();
    // A panel's or dock's id: its objectName, for a dock the objectName of its widget (else the
    // dock's own without the "Dock" suffix).
    static QString idOf(const QWidget* w);
    // Scales the fonts, pens and markers of `plot` from the values its panel set: font sizes
    // x fontScale, pen widths and marker sizes x lineScale; 1, 1 puts the panel's values back.
    static void scalePlot(QCustomPlot* plot, double fontScale, double lineScale);

  signals:
    void activeChanged(bool on);

  private:
    void apply();
    void restore();
    void applyVisibility();

    MainWindow* m_window;
    PresenterSettings m_settings;
    bool m_active = false;
    QAction* m_toggle = nullptr;
    // What entering changed, to put back.
    QByteArray m_savedState;
    QFont m_savedFont;
    bool m_hadFont = false;
    QList<QMetaObject::Connection> m_plotHooks;
    QList<QWidget*> m_hiddenControls;  // toolbar / status bar hidden by the choice
    // Widgets under a style sheet (the panel cards) barely take a font from their parent: each
    // gets the scaled font itself; their font before, and whether it was their own.
    struct SavedFont {
        QPointer<QWidget> widget;
        QFont font;
        bool own = false;
    };
    QList<SavedFont> m_styledFonts;
};

}  // namespace h158::ui
