#include "ui/sweep_dialog.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

namespace h158::ui {

namespace {
enum Column { ColKey, ColValues };

QComboBox* keyBox() {
    auto* box = new QComboBox;
    for (const FieldSpec& f : configSchema())
        if (f.key != "run.name" && f.key != "run.seed") box->addItem(QString::fromStdString(f.key));
    box->setEditable(true);
    box->setInsertPolicy(QComboBox::NoInsert);
    return box;
}
}  // namespace

SweepDialog::SweepDialog(const Config& base, const QString& preset, const QString& workspace,
                         QWidget* parent)
    : QDialog(parent), m_base(base), m_preset(preset), m_workspace(workspace) {
    setWindowTitle(tr("Sweep"));
    auto* v = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("Runs every combination of the values below, each with every seed, from the "
           "configuration in the form. Values are separated by commas."));
    intro->setWordWrap(true);
    v->addWidget(intro);

    m_axes = new QTableWidget(0, 2);
    m_axes->setHorizontalHeaderLabels({tr("Setting"), tr("Values")});
    m_axes->horizontalHeader()->setSectionResizeMode(ColKey, QHeaderView::ResizeToContents);
    m_axes->horizontalHeader()->setStretchLastSection(true);
    m_axes->verticalHeader()->setVisible(false);
    m_axes->setMinimumHeight(140);
    v->addWidget(m_axes, 1);
    auto* axisButtons = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add setting"));
    auto* remove = new QPushButton(tr("Remove setting"));
    axisButtons->addWidget(add);
    axisButtons->addWidget(remove);
    axisButtons->addStretch(1);
    v->addLayout(axisButtons);
    connect(add, &QPushButton::clicked, this, [this] {
        setAxis(axisCount(), QStringLiteral("trust.enabled"), QStringLiteral("true, false"));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        const int row = m_axes->currentRow() >= 0 ? m_axes->currentRow() : axisCount() - 1;
        if (row >= 0) m_axes->removeRow(row);
        update();
    });
    connect(m_axes, &QTableWidget::itemChanged, this, &SweepDialog::update);

    auto* form = new QFormLayout;
    m_seeds = new QSpinBox;
    m_seeds->setRange(1, 100);
    m_seeds->setToolTip(tr("run.seed = s, s+1, ..., s the form's seed"));
    form->addRow(tr("Seeds"), m_seeds);
    m_jobs = new QSpinBox;
    m_jobs->setRange(1, 64);
    m_jobs->setValue(std::max(1, QThread::idealThreadCount() / 2));
    m_jobs->setToolTip(tr("Runs at once; each gets cores / jobs threads"));
    form->addRow(tr("Runs at once"), m_jobs);
    m_name = new QLineEdit(QStringLiteral("sweep-") +
                           QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    m_name->setToolTip(tr("The sweep's folder in the workspace"));
    form->addRow(tr("Folder"), m_name);
    v->addLayout(form);
    connect(m_seeds, &QSpinBox::valueChanged, this, &SweepDialog::update);
    connect(m_name, &QLineEdit::textChanged, this, &SweepDialog::update);

    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_summary);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Start sweep"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    v->addWidget(m_buttons);

    const FieldSpec* lr = findField("optim.lr");
    const double now = std::stod(lr->toString(base));
    setAxis(0, QStringLiteral("optim.lr"),
            QStringLiteral("%1, %2").arg(QString::number(now, 'g', 4),
                                         QString::number(now / 3, 'g', 4)));
    resize(560, 420);
}

void SweepDialog::setAxis(int row, const QString& key, const QString& values) {
    if (row >= axisCount()) {
        row = axisCount();
        m_axes->insertRow(row);
        auto* box = keyBox();
        m_axes->setCellWidget(row, ColKey, box);
        connect(box, &QComboBox::currentTextChanged, this, &SweepDialog::update);
        m_axes->setItem(row, ColValues, new QTableWidgetItem);
    }
    auto* box = static_cast<QComboBox*>(m_axes->cellWidget(row, ColKey));
    box->setCurrentText(key);
    m_axes->item(row, ColValues)->setText(values);
    update();
}

int SweepDialog::axisCount() const {
    return m_axes->rowCount();
}

void SweepDialog::setSeeds(int n) {
    m_seeds->setValue(n);
}

void SweepDialog::setJobs(int n) {
    m_jobs->setValue(n);
}

void SweepDialog::setName(const QString& name) {
    m_name->setText(name);
}

QString SweepDialog::outDir() const {
    return QDir(m_workspace).filePath(m_name->text().trimmed());
}

SweepSpec SweepDialog::spec() const {
    SweepSpec s;
    // The preset the form started from and every setting in which the form differs from it.
    std::string preset = m_preset.toStdString();
    Config from;
    try {
        from = presetConfig(preset);
    } catch (const std::exception&) {
        preset = "seed-linear";
        from = presetConfig(preset);
    }
    s.preset = preset;
    for (const FieldSpec& f : configSchema()) {
        const std::string mine = f.toString(m_base);
        if (mine != f.toString(from)) s.set.push_back(f.key + "=" + mine);
    }
    for (int r = 0; r < axisCount(); ++r) {
        SweepAxis a;
        a.key = static_cast<QComboBox*>(m_axes->cellWidget(r, ColKey))->currentText().trimmed()
                    .toStdString();
        const QString text = m_axes->item(r, ColValues) ? m_axes->item(r, ColValues)->text() : "";
        for (const QString& value : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
            if (!value.trimmed().isEmpty()) a.values.push_back(value.trimmed().toStdString());
        s.grid.push_back(std::move(a));
    }
    s.seeds = m_seeds->value();
    return s;
}

bool SweepDialog::check(Sweep* out, QString* error) const {
    const QString name = m_name->text().trimmed();
    if (name.isEmpty() || name.contains(QLatin1Char('/')) || name.startsWith(QLatin1Char('.'))) {
        *error = tr("Folder: give a name for the sweep's folder (no '/')");
        return false;
    }
    if (QFileInfo::exists(outDir())) {
        *error = tr("Folder: %1 exists already; choose another name").arg(outDir());
        return false;
    }
    for (int r = 0; r < axisCount(); ++r) {
        const QTableWidgetItem* values = m_axes->item(r, ColValues);
        if (!values || values->text().trimmed().isEmpty()) {
            *error = tr("Setting %1: give its values, separated by commas").arg(r + 1);
            return false;
        }
    }
    try {
        *out = expandSweep(spec());
    } catch (const std::exception& e) {
        *error = QString::fromStdString(e.what());
        return false;
    }
    error->clear();
    return true;
}

QStringList SweepDialog::arguments() const {
    const SweepSpec s = spec();
    QStringList args{QStringLiteral("sweep"), QStringLiteral("--preset"),
                     QString::fromStdString(s.preset)};
    for (const std::string& line : s.set) args << QStringLiteral("--set") << QString::fromStdString(line);
    for (const SweepAxis& a : s.grid) {
        QStringList values;
        for (const std::string& v : a.values) values << QString::fromStdString(v);
        args << QStringLiteral("--grid")
             << QString::fromStdString(a.key) + QLatin1Char('=') + values.join(QLatin1Char(','));
    }
    args << QStringLiteral("--seeds") << QString::number(m_seeds->value())
         << QStringLiteral("--jobs") << QString::number(m_jobs->value())
         << QStringLiteral("--out") << outDir();
    return args;
}

void SweepDialog::update() {
    Sweep s;
    QString error;
    const bool ok = check(&s, &error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
    if (!ok) {
        m_summary->setStyleSheet(QStringLiteral("color: #b71c1c;"));
        m_summary->setText(error);
        return;
    }
    QStringList shape;
    for (const SweepAxis& a : s.spec.grid) shape << QString::number(a.values.size());
    shape << (s.spec.seeds == 1 ? tr("1 seed") : tr("%1 seeds").arg(s.spec.seeds));
    m_summary->setStyleSheet({});
    m_summary->setText((s.runs.size() == 1 ? tr("1 run: %1, into %2") : tr("%3 runs: %1, into %2"))
                           .arg(shape.join(QStringLiteral(" × ")),
                                QDir::toNativeSeparators(outDir()))
                           .arg(s.runs.size()));
}

}  // namespace h158::ui
