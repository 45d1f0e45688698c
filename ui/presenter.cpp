// Presenter mode. Plot fonts and pens are scaled just before each replot (QCustomPlot's
// beforeReplot), from the value the panel last set: a panel that sets a new pen while the mode is
// on gets it scaled too, and leaving the mode puts back exactly what the panel set.
#include "ui/presenter.h"

#include <qcustomplot.h>

#include <QAction>
#include <QApplication>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QStatusBar>
#include <QToolBar>
#include <QVBoxLayout>
#include <cmath>

#include "ui/main_window.h"
#include "ui/panel.h"

namespace h158::ui {

namespace {

// The value of attribute `what` of `o` that presenter mode scales: the value before the mode
// touched it, or, when the current value is not the one the mode set, the panel's new value.
double baseValue(QObject* o, const QByteArray& what, double current) {
    const QVariant applied = o->property("h158Applied." + what);
    return applied.isValid() && std::abs(applied.toDouble() - current) < 1e-9
               ? o->property("h158Base." + what).toDouble()
               : current;
}

// Notes the base and the value actually set (after any rounding); factor 1 forgets them.
void remember(QObject* o, const QByteArray& what, double base, double applied, double factor) {
    const bool keep = factor != 1.0;
    o->setProperty("h158Base." + what, keep ? QVariant(base) : QVariant());
    o->setProperty("h158Applied." + what, keep ? QVariant(applied) : QVariant());
}

void scaleFontProperty(QObject* o, const char* name, double factor) {
    const QVariant v = o->property(name);
    if (!v.isValid()) return;
    QFont f = v.value<QFont>();
    const bool points = f.pointSizeF() > 0;
    const QByteArray key = QByteArray(name) + (points ? ".pt" : ".px");
    const double current = points ? f.pointSizeF() : f.pixelSize();
    const double base = baseValue(o, key, current);
    if (points)
        f.setPointSizeF(base * factor);
    else
        f.setPixelSize(std::max(1, int(std::lround(base * factor))));
    if (f != v.value<QFont>()) o->setProperty(name, f);
    const QFont set = o->property(name).value<QFont>();
    remember(o, key, base, points ? set.pointSizeF() : set.pixelSize(), factor);
}

void scalePenProperty(QObject* o, const char* name, double factor) {
    const QVariant v = o->property(name);
    if (!v.isValid()) return;
    QPen pen = v.value<QPen>();
    if (pen.style() == Qt::NoPen) return;
    const double base = baseValue(o, name, pen.widthF());
    // Width 0 is a cosmetic one-pixel pen: scaled as 1 (and 0 put back).
    const double w = factor != 1.0 && base == 0 ? factor : base * factor;
    if (w != pen.widthF()) {
        pen.setWidthF(w);
        o->setProperty(name, pen);
    }
    remember(o, name, base, o->property(name).value<QPen>().widthF(), factor);
}

void scaleScatter(QObject* o, double factor) {
    const QVariant v = o->property("scatterStyle");
    if (!v.isValid() || !v.canConvert<QCPScatterStyle>()) return;
    QCPScatterStyle s = v.value<QCPScatterStyle>();
    if (s.isNone()) return;
    const double base = baseValue(o, "scatterSize", s.size());
    if (base * factor != s.size()) {
        s.setSize(base * factor);
        o->setProperty("scatterStyle", QVariant::fromValue(s));
    }
    remember(o, "scatterSize", base, base * factor, factor);
}

QString titleOf(const QWidget* w) {
    if (auto* p = qobject_cast<const Panel*>(w)) return p->title();
    if (auto* d = qobject_cast<const QDockWidget*>(w)) return d->windowTitle();
    return w->windowTitle();
}

}  // namespace

Presenter::Presenter(MainWindow* window) : QObject(window), m_window(window) {
    m_toggle = new QAction(tr("&Presenter mode"), this);
    m_toggle->setObjectName(QStringLiteral("presenter"));
    m_toggle->setCheckable(true);
    // F11 is Step into (as in a debugger).
    m_toggle->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), QKeySequence(Qt::Key_F12)});
    m_toggle->setToolTip(
        tr("Large fonts, thick lines and only the chosen panels, for a "
           "classroom (Ctrl+Shift+P again to leave)"));
    connect(m_toggle, &QAction::toggled, this, &Presenter::setActive);
}

void Presenter::addMenuActions(QMenu* view) {
    view->addSeparator();
    view->addAction(m_toggle);
    view->addAction(tr("Presenter &settings…"), this, &Presenter::editSettings);
}

QString Presenter::idOf(const QWidget* w) {
    if (auto* d = qobject_cast<const QDockWidget*>(w)) {
        if (d->widget() && !d->widget()->objectName().isEmpty()) return d->widget()->objectName();
        QString id = d->objectName();
        if (id.endsWith(QLatin1String("Dock"))) id.chop(4);
        return id;
    }
    if (qobject_cast<const QToolBar*>(w)) return QStringLiteral("toolbar");
    if (qobject_cast<const QStatusBar*>(w)) return QStringLiteral("status");
    // Panels not yet given an id keep the card's style name: the title then stands in.
    const QString name = w->objectName();
    if (name.isEmpty() || name == QLatin1String("panelCard")) return titleOf(w).toLower();
    return name;
}

QList<PresenterChoice> Presenter::choices() const {
    QList<PresenterChoice> out;
    for (Panel* p : m_window->panels()) out.append({idOf(p), p->title(), p});
    for (QDockWidget* d : m_window->findChildren<QDockWidget*>())
        out.append({idOf(d), d->windowTitle(), d});
    for (QToolBar* t : m_window->findChildren<QToolBar*>())
        out.append({idOf(t), tr("Run controls (toolbar)"), t});
    out.append({QStringLiteral("status"), tr("Status bar"), m_window->statusBar()});
    return out;
}

QByteArray Presenter::windowState() const {
    return m_active ? m_savedState : m_window->saveState();
}

bool Presenter::shows(const QWidget* w) const {
    if (!m_active || m_settings.shown.isEmpty()) return true;
    return m_settings.shown.contains(idOf(w));
}

void Presenter::setSettings(const PresenterSettings& s) {
    m_settings = s;
    m_settings.fontScale =
        std::clamp(s.fontScale, PresenterSettings::kMinScale, PresenterSettings::kMaxFontScale);
    m_settings.lineScale =
        std::clamp(s.lineScale, PresenterSettings::kMinScale, PresenterSettings::kMaxLineScale);
    if (m_active) apply();
}

void Presenter::setActive(bool on) {
    if (on == m_active) return;
    if (on) {
        m_savedState = m_window->saveState();
        m_hadFont = m_window->testAttribute(Qt::WA_SetFont);
        m_savedFont = m_window->font();
        m_active = true;
        apply();
    } else {
        m_active = false;
        restore();
    }
    if (m_toggle->isChecked() != on) m_toggle->setChecked(on);
    emit activeChanged(on);
}

void Presenter::apply() {
    QFont f = m_hadFont ? m_savedFont : QApplication::font(m_window);
    if (f.pointSizeF() > 0)
        f.setPointSizeF(f.pointSizeF() * m_settings.fontScale);
    else
        f.setPixelSize(int(std::lround(f.pixelSize() * m_settings.fontScale)));
    m_window->setFont(f);
    // Qt passes a font on to a widget under a style sheet (the panel cards, the form, and what
    // they hold) one level at most, and not always to their children without one (a spin
    // box's editor): each of these gets its own font scaled. Parents come before children.
    if (m_styledFonts.isEmpty())
        for (QWidget* w : m_window->findChildren<QWidget*>()) {
            const QWidget* parent = w->parentWidget();
            if (w->testAttribute(Qt::WA_StyleSheet) ||
                (parent && parent->testAttribute(Qt::WA_StyleSheet)))
                m_styledFonts.append({w, w->font(), w->testAttribute(Qt::WA_SetFont)});
        }
    for (const SavedFont& s : m_styledFonts) {
        if (!s.widget) continue;
        QFont scaled = s.font;
        if (scaled.pointSizeF() > 0)
            scaled.setPointSizeF(s.font.pointSizeF() * m_settings.fontScale);
        else
            scaled.setPixelSize(int(std::lround(s.font.pixelSize() * m_settings.fontScale)));
        s.widget->setFont(scaled);
    }
    // A panel that paints with its own pens reads the scale here (1 outside the mode).
    m_window->setProperty("h158LineScale", m_settings.lineScale);

    for (const QMetaObject::Connection& c : m_plotHooks) disconnect(c);
    m_plotHooks.clear();
    const double fs = m_settings.fontScale, ls = m_settings.lineScale;
    for (QCustomPlot* plot : m_window->findChildren<QCustomPlot*>()) {
        m_plotHooks << connect(plot, &QCustomPlot::beforeReplot, plot,
                               [plot, fs, ls] { scalePlot(plot, fs, ls); });
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    applyVisibility();
}

void Presenter::applyVisibility() {
    for (QDockWidget* d : m_window->findChildren<QDockWidget*>()) {
        if (!shows(d))
            d->hide();
        else if (!m_settings.shown.isEmpty())
            d->show();
    }
    for (QWidget* c : m_hiddenControls) c->show();
    m_hiddenControls.clear();
    QList<QWidget*> controls;
    for (QToolBar* t : m_window->findChildren<QToolBar*>()) controls << t;
    controls << m_window->statusBar();
    for (QWidget* c : controls)
        if (!shows(c) && c->isVisibleTo(m_window)) {
            c->hide();
            m_hiddenControls << c;
        }
    m_window->relayout();
}

void Presenter::restore() {
    for (const QMetaObject::Connection& c : m_plotHooks) disconnect(c);
    m_plotHooks.clear();
    m_window->setFont(m_hadFont ? m_savedFont : QFont());
    for (const SavedFont& s : m_styledFonts)
        if (s.widget) s.widget->setFont(s.own ? s.font : QFont());
    m_styledFonts.clear();
    m_window->setProperty("h158LineScale", QVariant());
    for (QCustomPlot* plot : m_window->findChildren<QCustomPlot*>()) {
        scalePlot(plot, 1.0, 1.0);
        plot->replot(QCustomPlot::rpQueuedReplot);
    }
    for (QWidget* c : m_hiddenControls) c->show();
    m_hiddenControls.clear();
    m_window->restoreState(m_savedState);
    m_window->relayout();
}

void Presenter::scalePlot(QCustomPlot* plot, double fontScale, double lineScale) {
    for (QCPLayerable* l : plot->findChildren<QCPLayerable*>()) {
        // Legend items take the legend's font (QCPLegend::setFont), the grid stays light, and
        // bars and colour maps are areas, not lines.
        if (qobject_cast<QCPAbstractLegendItem*>(l) || qobject_cast<QCPGrid*>(l) ||
            qobject_cast<QCPBars*>(l) || qobject_cast<QCPColorMap*>(l))
            continue;
        if (auto* axis = qobject_cast<QCPAxis*>(l)) {
            scaleFontProperty(axis, "tickLabelFont", fontScale);
            scaleFontProperty(axis, "labelFont", fontScale);
            for (const char* pen : {"basePen", "tickPen", "subTickPen"})
                scalePenProperty(axis, pen, lineScale);
            continue;
        }
        if (auto* legend = qobject_cast<QCPLegend*>(l)) {
            scaleFontProperty(legend, "font", fontScale);
            const QSize icon = legend->iconSize();
            const double w = baseValue(legend, "iconW", icon.width());
            const double h = baseValue(legend, "iconH", icon.height());
            const QSize scaled(int(std::lround(w * fontScale)), int(std::lround(h * fontScale)));
            if (scaled != icon) legend->setIconSize(scaled);
            remember(legend, "iconW", w, scaled.width(), fontScale);
            remember(legend, "iconH", h, scaled.height(), fontScale);
            continue;
        }
        scaleFontProperty(l, "font", fontScale);
        scalePenProperty(l, "pen", lineScale);
        scaleScatter(l, lineScale);
        if (auto* tracer = qobject_cast<QCPItemTracer*>(l)) {
            const double base = baseValue(tracer, "size", tracer->size());
            tracer->setSize(base * lineScale);
            remember(tracer, "size", base, tracer->size(), lineScale);
        }
    }
}

bool Presenter::editSettings() {
    QDialog dialog(m_window);
    dialog.setObjectName(QStringLiteral("presenterSettings"));
    dialog.setWindowTitle(tr("Presenter settings"));
    auto* v = new QVBoxLayout(&dialog);
    auto* form = new QFormLayout;
    auto* font = new QDoubleSpinBox;
    font->setObjectName(QStringLiteral("fontScale"));
    font->setRange(PresenterSettings::kMinScale, PresenterSettings::kMaxFontScale);
    font->setSingleStep(0.1);
    font->setSuffix(QStringLiteral(" ×"));
    font->setValue(m_settings.fontScale);
    auto* line = new QDoubleSpinBox;
    line->setObjectName(QStringLiteral("lineScale"));
    line->setRange(PresenterSettings::kMinScale, PresenterSettings::kMaxLineScale);
    line->setSingleStep(0.25);
    line->setSuffix(QStringLiteral(" ×"));
    line->setValue(m_settings.lineScale);
    form->addRow(tr("Font size"), font);
    form->addRow(tr("Line width and markers"), line);
    v->addLayout(form);
    v->addWidget(new QLabel(tr("Shown in presenter mode (the others are hidden):")));
    auto* list = new QListWidget;
    list->setObjectName(QStringLiteral("shownList"));
    for (const PresenterChoice& c : choices()) {
        auto* item = new QListWidgetItem(QStringLiteral("%1  (%2)").arg(c.title, c.id), list);
        item->setData(Qt::UserRole, c.id);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        const bool on = m_settings.shown.isEmpty() || m_settings.shown.contains(c.id);
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
    }
    v->addWidget(list, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    auto checkAll = [list](Qt::CheckState state) {
        for (int i = 0; i < list->count(); ++i) list->item(i)->setCheckState(state);
    };
    connect(buttons->addButton(tr("Tick all"), QDialogButtonBox::ResetRole), &QPushButton::clicked,
            &dialog, [checkAll] { checkAll(Qt::Checked); });
    connect(buttons->addButton(tr("Untick all"), QDialogButtonBox::ResetRole),
            &QPushButton::clicked, &dialog, [checkAll] { checkAll(Qt::Unchecked); });
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    v->addWidget(buttons);
    // Nothing ticked would show nothing (an empty choice means everything): OK waits for one.
    connect(list, &QListWidget::itemChanged, &dialog, [list, buttons] {
        bool any = false;
        for (int i = 0; i < list->count(); ++i)
            any = any || list->item(i)->checkState() == Qt::Checked;
        buttons->button(QDialogButtonBox::Ok)->setEnabled(any);
    });
    dialog.resize(dialog.sizeHint().expandedTo(QSize(460, 560)));
    if (dialog.exec() != QDialog::Accepted) return false;
    PresenterSettings s;
    s.fontScale = font->value();
    s.lineScale = line->value();
    bool all = true;
    s.shown.clear();
    for (int i = 0; i < list->count(); ++i) {
        if (list->item(i)->checkState() == Qt::Checked)
            s.shown << list->item(i)->data(Qt::UserRole).toString();
        else
            all = false;
    }
    if (all) s.shown.clear();  // everything: also what later versions add
    setSettings(s);
    return true;
}

}  // namespace h158::ui
