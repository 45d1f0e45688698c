#include "ui/config_panel.h"

#include <QTimer>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>
#include <climits>
#include <map>

namespace h158::ui {

namespace {

// Shows values in their shortest form ("0.05", not "0.050000") while keeping full precision.
class CompactDoubleSpinBox : public QDoubleSpinBox {
  public:
    using QDoubleSpinBox::QDoubleSpinBox;
    QString textFromValue(double v) const override { return QLocale::c().toString(v, 'g', 10); }
};

QString sectionTitle(const std::string& s) {
    static const std::map<std::string, const char*> titles = {{"run", "Run"},
                                                              {"data", "Data"},
                                                              {"model", "Model"},
                                                              {"quant", "Quantization"},
                                                              {"cluster", "Clustering"},
                                                              {"aux", "Auxiliary NN"},
                                                              {"trust", "Trust region"},
                                                              {"optim", "Optimizer"},
                                                              {"sample", "Text samples (GPT)"}};
    const auto it = titles.find(s);
    return it == titles.end() ? QString::fromStdString(s) : QString::fromUtf8(it->second);
}

QString rangeText(const FieldSpec& s) {
    if (s.type != FieldType::Int && s.type != FieldType::Double) return {};
    return QStringLiteral("%1%2, %3]")
        .arg(s.minExclusive ? '(' : '[')
        .arg(QLocale::c().toString(s.min, 'g', 6), QLocale::c().toString(s.max, 'g', 6));
}

// Whether a field matters for the current model and data (from its doc's prefix); irrelevant
// fields stay editable but their labels are greyed.
bool relevant(const FieldSpec& s, const Config& c) {
    const std::string& d = s.doc;
    auto starts = [&](const char* p) { return d.rfind(p, 0) == 0; };
    if (starts("GPT")) return c.model.kind == "gpt";
    if (starts("MLP")) return c.model.kind == "mlp";
    if (starts("CSV")) return c.data.kind == "csv";
    if (starts("Regression:")) return c.data.kind == "regression";
    if (starts("AdamW")) return c.optim.kind == "adamw";
    if (starts("SGD")) return c.optim.kind == "sgd";
    if (s.section == "aux" && s.name != "enabled") return c.aux.enabled;
    if (s.section == "trust" && s.name != "enabled") return c.trust.enabled;
    const bool quantized = c.quant.weights != "none";
    if (s.section == "quant" && s.name != "weights" && s.name != "updates") return quantized;
    if (s.key == "cluster.param_k" || s.key == "cluster.param_refresh_every")
        return quantized && c.quant.granularity == "cluster";
    if (s.key == "cluster.policy" || s.key == "cluster.refresh_every") return c.cluster.data_k > 0;
    return true;
}

}  // namespace

ConfigPanel::ConfigPanel(QWidget* parent) : QWidget(parent) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    outer->setSpacing(4);
    outer->addLayout(buildPresetRow());
    m_source = new QLabel;
    m_source->setStyleSheet(QStringLiteral("color: #666;"));
    m_source->setWordWrap(true);
    outer->addWidget(m_source);
    m_generalErrors = new QLabel;
    m_generalErrors->setWordWrap(true);
    m_generalErrors->setStyleSheet(QStringLiteral("color: #c62828;"));
    m_generalErrors->hide();
    outer->addWidget(m_generalErrors);
    auto* scroll = new QScrollArea;
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(buildForm());
    outer->addWidget(scroll, 1);
    setStyleSheet(
        QStringLiteral("*[invalid=\"true\"] { border: 1px solid #d32f2f; "
                       "border-radius: 2px; background: #fff5f5; }"));
    m_liveTimer = new QTimer(this);
    m_liveTimer->setSingleShot(true);
    connect(m_liveTimer, &QTimer::timeout, this, &ConfigPanel::commitLiveEdits);
    selectPreset(m_preset->currentText());
}

// Preset chooser, reset, open and save.
QHBoxLayout* ConfigPanel::buildPresetRow() {
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(new QLabel(tr("Preset")));
    m_preset = new QComboBox;
    for (const PresetInfo& p : presetList()) {
        m_preset->addItem(QString::fromStdString(p.name));
        m_preset->setItemData(m_preset->count() - 1, QString::fromStdString(p.summary),
                              Qt::ToolTipRole);
    }
    m_preset->setToolTip(tr("Built-in experiments; choosing one loads it into the form"));
    m_preset->setPlaceholderText(tr("(from a file)"));
    presetRow->addWidget(m_preset, 1);
    auto* reset = new QToolButton;
    reset->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    reset->setToolTip(tr("Reset the form to the selected preset"));
    presetRow->addWidget(reset);
    auto* open = new QToolButton;
    open->setIcon(style()->standardIcon(QStyle::SP_DialogOpenButton));
    open->setToolTip(tr("Open a config JSON file (the format hybrid158-cli reads)"));
    presetRow->addWidget(open);
    auto* save = new QToolButton;
    save->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    save->setToolTip(tr("Save this config as JSON"));
    presetRow->addWidget(save);
    m_fileControls = {m_preset, reset, open};
    connect(m_preset, &QComboBox::activated, this, [this] { resetToPreset(); });
    connect(reset, &QToolButton::clicked, this, &ConfigPanel::resetToPreset);
    connect(open, &QToolButton::clicked, this, &ConfigPanel::openFile);
    connect(save, &QToolButton::clicked, this, &ConfigPanel::saveFileAs);
    return presetRow;
}

// One group box per schema section, one row per field.
QWidget* ConfigPanel::buildForm() {
    auto* body = new QWidget;
    auto* bodyLayout = new QVBoxLayout(body);
    bodyLayout->setContentsMargins(0, 0, 6, 0);
    bodyLayout->setSpacing(6);
    const auto& schema = configSchema();
    m_fields.resize(schema.size());
    QFormLayout* form = nullptr;
    std::string section;
    for (size_t i = 0; i < schema.size(); ++i) {
        Field& f = m_fields[i];
        f.spec = &schema[i];
        if (!form || f.spec->section != section) {
            section = f.spec->section;
            auto* box = new QGroupBox(sectionTitle(section));
            form = new QFormLayout(box);
            form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
            form->setLabelAlignment(Qt::AlignLeft);
            form->setContentsMargins(8, 6, 8, 6);
            form->setVerticalSpacing(4);
            bodyLayout->addWidget(box);
        }
        addFieldRow(f, form);
    }
    bodyLayout->addStretch(1);
    return body;
}

// The field's label and editor, with the schema's documentation as their tooltip, and the line
// that shows its error.
void ConfigPanel::addFieldRow(Field& f, QFormLayout* form) {
    QString name = QString::fromStdString(f.spec->name);
    name.replace('_', ' ');
    f.label = new QLabel(name);
    QString tip = QStringLiteral("<b>%1</b><br>%2")
                      .arg(QString::fromStdString(f.spec->key),
                           QString::fromStdString(f.spec->doc).toHtmlEscaped());
    if (!rangeText(*f.spec).isEmpty()) tip += tr("<br>range %1").arg(rangeText(*f.spec));
    if (!f.spec->choices.empty()) {
        QStringList c;
        for (const auto& s : f.spec->choices) c << QString::fromStdString(s);
        tip += tr("<br>one of: %1").arg(c.join(QStringLiteral(", ")));
    }
    f.label->setToolTip(tip);
    QWidget* ed = makeEditor(f);
    ed->setToolTip(tip);
    f.editor->setToolTip(tip);
    f.editor->setObjectName(QString::fromStdString(f.spec->key));
    f.error = new QLabel;
    f.error->setWordWrap(true);
    f.error->setStyleSheet(QStringLiteral("color: #c62828; font-size: 9pt;"));
    f.error->hide();
    auto* cell = new QWidget;
    auto* v = new QVBoxLayout(cell);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(1);
    v->addWidget(ed);
    v->addWidget(f.error);
    form->addRow(f.label, cell);
}

QWidget* ConfigPanel::makeEditor(Field& f) {
    const FieldSpec& s = *f.spec;
    const size_t index = size_t(&f - m_fields.data());
    switch (s.type) {
        case FieldType::Int:
            if (s.max <= double(INT_MAX)) {
                auto* spin = new QSpinBox;
                spin->setRange(int(s.min), int(s.max));
                spin->setAccelerated(true);
                connect(spin, &QSpinBox::valueChanged, this,
                        [this, index](int v) { onEdited(index, QString::number(v)); });
                return f.editor = spin;
            }
            break;
        case FieldType::Double:
            if (!s.logScale) {
                auto* spin = new CompactDoubleSpinBox;
                spin->setLocale(QLocale::c());
                spin->setDecimals(10);
                spin->setRange(s.min, s.max);
                spin->setStepType(QAbstractSpinBox::AdaptiveDecimalStepType);
                connect(spin, &QDoubleSpinBox::valueChanged, this,
                        [this, index](double v) { onEdited(index, QString::number(v, 'g', 17)); });
                return f.editor = spin;
            }
            break;
        case FieldType::Bool: {
            auto* check = new QCheckBox;
            connect(check, &QCheckBox::toggled, this, [this, index](bool on) {
                onEdited(index, on ? QStringLiteral("true") : QStringLiteral("false"));
            });
            return f.editor = check;
        }
        case FieldType::Choice: {
            auto* combo = new QComboBox;
            for (const auto& c : s.choices) combo->addItem(QString::fromStdString(c));
            connect(combo, &QComboBox::currentTextChanged, this,
                    [this, index](const QString& t) { onEdited(index, t); });
            return f.editor = combo;
        }
        case FieldType::String:
        case FieldType::Path:
            break;
    }
    // Log-scale numbers, very wide integers, strings and paths: a line edit the core parses.
    auto* line = new QLineEdit;
    if (s.logScale) line->setPlaceholderText(QStringLiteral("e.g. 3e-4"));
    connect(line, &QLineEdit::textEdited, this,
            [this, index](const QString& t) { onEdited(index, t); });
    f.editor = line;
    if (s.type != FieldType::Path) return line;
    auto* row = new QWidget;
    auto* h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->setSpacing(2);
    h->addWidget(line, 1);
    auto* browse = new QToolButton;
    browse->setText(QStringLiteral("…"));
    browse->setToolTip(tr("Choose a file"));
    h->addWidget(browse);
    connect(browse, &QToolButton::clicked, this, [this, index, line] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Choose a file"), line->text());
        if (file.isEmpty()) return;
        line->setText(file);
        onEdited(index, file);
    });
    return row;
}

void ConfigPanel::fillEditor(const Field& f) {
    const QString text = QString::fromStdString(f.spec->toString(m_config));
    const FieldValue v = f.spec->get(m_config);
    const QSignalBlocker block(f.editor);
    if (auto* spin = qobject_cast<QSpinBox*>(f.editor))
        spin->setValue(int(std::get<int64_t>(v)));
    else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(f.editor))
        dspin->setValue(std::get<double>(v));
    else if (auto* check = qobject_cast<QCheckBox*>(f.editor))
        check->setChecked(std::get<bool>(v));
    else if (auto* combo = qobject_cast<QComboBox*>(f.editor))
        combo->setCurrentText(text);
    else if (auto* line = qobject_cast<QLineEdit*>(f.editor))
        line->setText(text);
}

void ConfigPanel::setConfig(const Config& cfg) {
    m_config = cfg;
    m_filling = true;
    for (Field& f : m_fields) {
        f.parseError.clear();
        fillEditor(f);
    }
    m_filling = false;
    revalidate();
    emit configChanged();
}

void ConfigPanel::onEdited(size_t index, const QString& text) {
    if (m_filling) return;
    Field& f = m_fields[index];
    try {
        f.spec->setFromString(m_config, text.toStdString());
        f.parseError.clear();
    } catch (const std::exception& e) {
        f.parseError = QString::fromStdString(e.what());
    }
    revalidate();
    emit configChanged();
    if (!m_liveMode || !f.spec->live || !f.parseError.isEmpty() || !f.error->text().isEmpty())
        return;
    const QString key = QString::fromStdString(f.spec->key);
    m_livePending.removeIf([&](const QPair<QString, QString>& p) { return p.first == key; });
    m_livePending.append({key, QString::fromStdString(f.spec->toString(m_config))});
    const bool typed = qobject_cast<QAbstractSpinBox*>(f.editor) || qobject_cast<QLineEdit*>(f.editor);
    m_liveTimer->start(typed ? 600 : 0);
}

void ConfigPanel::setLiveMode(bool on) {
    if (on == m_liveMode) return;
    if (!on) commitLiveEdits();
    m_liveMode = on;
    for (Field& f : m_fields) {
        const bool editable = !on || f.spec->live;
        QWidget* w = f.editor->parentWidget() && qobject_cast<QLineEdit*>(f.editor) &&
                             f.spec->type == FieldType::Path
                         ? f.editor->parentWidget()
                         : f.editor;
        w->setEnabled(editable);
        const QString doc = QString::fromStdString(f.spec->doc);
        w->setToolTip(editable ? doc
                               : doc + tr("\n\nCannot change during a run: it shapes the model, "
                                          "the data or the random streams. Fork the run (right-click "
                                          "a curve) or start a new one."));
    }
    for (QWidget* w : m_fileControls) w->setEnabled(!on);
    if (on) m_sourceBeforeLive = m_source->text();
    m_source->setText(on ? tr("Running: the settings still editable change the run at its next "
                              "step, recorded in events.jsonl and marked on the plots.")
                         : m_sourceBeforeLive);
}

void ConfigPanel::commitLiveEdits() {
    m_liveTimer->stop();
    const auto pending = std::exchange(m_livePending, {});
    if (!m_liveMode) return;
    for (const auto& [key, text] : pending) emit liveEdited(key, text);
}

void ConfigPanel::setFieldText(const QString& key, const QString& text) {
    for (size_t i = 0; i < m_fields.size(); ++i) {
        Field& f = m_fields[i];
        if (QString::fromStdString(f.spec->key) != key) continue;
        {
            const QSignalBlocker block(f.editor);
            bool ok = false;
            if (auto* spin = qobject_cast<QSpinBox*>(f.editor)) {
                const int v = text.toInt(&ok);
                if (ok) spin->setValue(v);
            } else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(f.editor)) {
                const double v = text.toDouble(&ok);
                if (ok) dspin->setValue(v);
            } else if (auto* check = qobject_cast<QCheckBox*>(f.editor)) {
                check->setChecked(text == QLatin1String("true"));
            } else if (auto* combo = qobject_cast<QComboBox*>(f.editor)) {
                combo->setCurrentText(text);
            } else if (auto* line = qobject_cast<QLineEdit*>(f.editor)) {
                line->setText(text);
            }
        }
        onEdited(i, text);
        return;
    }
}

void ConfigPanel::showFieldError(Field& f, const QString& message) {
    f.error->setText(message);
    f.error->setVisible(!message.isEmpty());
    const bool invalid = !message.isEmpty();
    if (f.editor->property("invalid").toBool() != invalid) {
        f.editor->setProperty("invalid", invalid);
        f.editor->style()->unpolish(f.editor);
        f.editor->style()->polish(f.editor);
    }
}

// The core's messages start with the field's key ("optim.lr must be > 0, got -1"); each goes
// under the field with the longest key it starts with, the rest above the form.
void ConfigPanel::revalidate() {
    std::vector<QStringList> perField(m_fields.size());
    m_otherErrors.clear();
    for (const std::string& msg : validationErrors(m_config)) {
        const QString m = QString::fromStdString(msg);
        int best = -1;
        qsizetype bestLen = 0;
        for (size_t i = 0; i < m_fields.size(); ++i) {
            const QString key = QString::fromStdString(m_fields[i].spec->key);
            if (key.size() > bestLen && m.startsWith(key) &&
                (m.size() == key.size() ||
                 !(m[key.size()].isLetterOrNumber() || m[key.size()] == '_'))) {
                best = int(i);
                bestLen = key.size();
            }
        }
        if (best >= 0)
            perField[size_t(best)] << m;
        else
            m_otherErrors << m;
    }
    bool valid = m_otherErrors.isEmpty();
    for (size_t i = 0; i < m_fields.size(); ++i) {
        Field& f = m_fields[i];
        QStringList msgs = perField[i];
        if (!f.parseError.isEmpty()) msgs.prepend(f.parseError);
        valid = valid && msgs.isEmpty();
        showFieldError(f, msgs.join('\n'));
    }
    m_generalErrors->setText(m_otherErrors.join('\n'));
    m_generalErrors->setVisible(!m_otherErrors.isEmpty());
    updateRelevance();
    if (valid != m_valid) {
        m_valid = valid;
        emit validityChanged(valid);
    }
}

void ConfigPanel::updateRelevance() {
    for (Field& f : m_fields) {
        const bool on = relevant(*f.spec, m_config);
        f.label->setStyleSheet(on ? QString() : QStringLiteral("color: #a0a0a0;"));
    }
}

QStringList ConfigPanel::errors() const {
    QStringList all;
    for (const Field& f : m_fields)
        if (!f.error->text().isEmpty()) all << f.error->text();
    return all + m_otherErrors;
}

QString ConfigPanel::fieldError(const QString& key) const {
    for (const Field& f : m_fields)
        if (QString::fromStdString(f.spec->key) == key) return f.error->text();
    return {};
}

QWidget* ConfigPanel::editor(const QString& key) const {
    for (const Field& f : m_fields)
        if (QString::fromStdString(f.spec->key) == key) return f.editor;
    return nullptr;
}

QString ConfigPanel::presetName() const {
    return m_preset->currentText();
}

bool ConfigPanel::selectPreset(const QString& name) {
    const int i = m_preset->findText(name);
    if (i < 0) return false;
    m_preset->setCurrentIndex(i);
    resetToPreset();
    return true;
}

void ConfigPanel::resetToPreset() {
    if (m_preset->currentIndex() < 0) {  // loaded from a file: reload it
        if (!m_file.isEmpty()) loadFile(m_file);
        return;
    }
    m_file.clear();
    m_source->setText(m_preset->currentData(Qt::ToolTipRole).toString());
    setConfig(presetConfig(m_preset->currentText().toStdString()));
}

bool ConfigPanel::loadFile(const QString& path, QString* error) {
    try {
        const Config cfg = loadConfigFile(path.toStdString());
        m_file = path;
        m_preset->setCurrentIndex(-1);
        m_source->setText(tr("From %1").arg(QFileInfo(path).fileName()));
        setConfig(cfg);
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

bool ConfigPanel::saveFile(const QString& path, QString* error) const {
    try {
        saveConfigFile(m_config, path.toStdString());
        return true;
    } catch (const std::exception& e) {
        if (error) *error = QString::fromStdString(e.what());
        return false;
    }
}

void ConfigPanel::openFile() {
    const QString f = QFileDialog::getOpenFileName(this, tr("Open config"), m_file,
                                                   tr("Config JSON (*.json);;All files (*)"));
    if (f.isEmpty()) return;
    QString err;
    if (!loadFile(f, &err)) {
        m_generalErrors->setText(err);
        m_generalErrors->show();
    }
}

void ConfigPanel::saveFileAs() {
    const QString suggested =
        m_file.isEmpty() ? QString::fromStdString(m_config.run.name) + ".json" : m_file;
    const QString f = QFileDialog::getSaveFileName(this, tr("Save config"), suggested,
                                                   tr("Config JSON (*.json)"));
    if (f.isEmpty()) return;
    QString err;
    if (saveFile(f, &err)) {
        m_file = f;
        m_source->setText(tr("Saved to %1").arg(QFileInfo(f).fileName()));
    } else {
        m_generalErrors->setText(err);
        m_generalErrors->show();
    }
}

}  // namespace h158::ui
