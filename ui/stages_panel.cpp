// The step-into view: the trainer's StageReport of each stage, as a list, a sentence and a table.
#include "ui/stages_panel.h"

#include <QComboBox>
#include <QEvent>
#include <algorithm>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

#include "ui/theme.h"

namespace h158::ui {
namespace {

QString number(const nlohmann::json& v) {
    if (v.is_null()) return QStringLiteral("–");
    if (v.is_boolean()) return v.get<bool>() ? QObject::tr("yes") : QObject::tr("no");
    if (v.is_number_integer()) return QString::number(v.get<int64_t>());
    if (v.is_number()) return QString::number(v.get<double>(), 'g', 4);
    if (v.is_string()) return QString::fromStdString(v.get<std::string>());
    return {};
}

// The per-tensor columns of each stage: (JSON field, header).
std::vector<std::pair<const char*, QString>> tensorColumns(StepStage s) {
    switch (s) {
    case StepStage::Backward:
        return {{"grad_norm", QObject::tr("|gradient|")}};
    case StepStage::Propose:
        return {{"proposed", QObject::tr("proposed |step|")}};
    case StepStage::Project:
        return {{"proposed", QObject::tr("proposed")},
                {"limit", QObject::tr("limit r·|Θ|")},
                {"after", QObject::tr("after")},
                {"factor", QObject::tr("kept")}};
    case StepStage::Requantize:
        return {{"flips_weight", QObject::tr("flips: weight moved")},
                {"flips_scale", QObject::tr("flips: scale moved")},
                {"scale_before", QObject::tr("scale before")},
                {"scale_after", QObject::tr("scale after")}};
    default:
        return {};
    }
}

// The scalar figures of each stage: (JSON field, label).
std::vector<std::pair<const char*, QString>> scalarRows(StepStage s) {
    switch (s) {
    case StepStage::Forward:
        return {{"loss", QObject::tr("loss")},
                {"accuracy", QObject::tr("batch accuracy")},
                {"batch", QObject::tr("samples")},
                {"quant_error", QObject::tr("quantization error |Q(W)−W|/|W|")},
                {"frac_neg", QObject::tr("codes −1")},
                {"frac_zero", QObject::tr("codes 0")},
                {"frac_pos", QObject::tr("codes +1")}};
    case StepStage::Aux:
        return {{"enabled", QObject::tr("auxiliary network on")},
                {"multiplier", QObject::tr("lr multiplier m")},
                {"radius", QObject::tr("trust radius r")},
                {"in_warmup", QObject::tr("in warm-up")}};
    case StepStage::Apply:
        return {{"step_norm", QObject::tr("|step| applied")}, {"param_norm", QObject::tr("|Θ|")}};
    case StepStage::Observe:
        return {{"val_loss", QObject::tr("validation loss")}, {"status", QObject::tr("run")}};
    default:
        return {};
    }
}

}  // namespace

StagesPanel::StagesPanel(QWidget* parent) : Panel(tr("One step, in stages"), parent) {
    setObjectName(QStringLiteral("stages"));
    auto* body = new QWidget;
    auto* h = new QHBoxLayout(body);
    h->setContentsMargins(0, 0, 0, 0);
    m_list = new QListWidget;
    m_list->setSelectionMode(QAbstractItemView::NoSelection);
    m_list->setFocusPolicy(Qt::NoFocus);
    m_list->installEventFilter(this);  // its width follows its font (presenter mode)
    const char* names[kStepStages] = {"1 Forward (codes)", "2 Backward (STE)", "3 Aux network",
                                      "4 Proposed step",   "5 Trust region",   "6 Update",
                                      "7 Re-quantize",     "8 Bookkeeping"};
    for (const char* n : names) m_list->addItem(tr(n));
    fitList();
    h->addWidget(m_list);
    auto* right = new QVBoxLayout;
    m_title = new QLabel(tr("Press Step into (F11) to take the next stage of a training step."));
    QFont f = m_title->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.15);
    m_title->setFont(f);
    m_title->setWordWrap(true);
    m_text = new QLabel;
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget;
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setAlternatingRowColors(true);
    // the sentence scrolls in a narrow panel instead of pushing the table away
    auto* words = new QWidget;
    auto* wl = new QVBoxLayout(words);
    wl->setContentsMargins(0, 0, 0, 0);
    wl->addWidget(m_title);
    wl->addWidget(m_text);
    wl->addStretch(1);
    auto* scroll = new QScrollArea;
    scroll->setWidget(words);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    right->addWidget(scroll, 2);
    right->addWidget(m_table, 3);
    h->addLayout(right, 1);
    setContent(body);

    auto* stepButton = new QPushButton(tr("Step into"));
    stepButton->setToolTip(tr("Take the next stage of the step (F11)"));
    m_playButton = new QPushButton(tr("Play stages"));
    m_playButton->setCheckable(true);
    m_playButton->setToolTip(tr("Slow motion: take one stage after another on a timer"));
    m_pace = new QComboBox;
    for (int ms : {500, 1000, 2000, 4000})
        m_pace->addItem(tr("%1 s per stage").arg(ms / 1000.0), ms);
    m_pace->setCurrentIndex(1);
    m_play.setInterval(1000);
    toolRow()->addWidget(stepButton);
    toolRow()->addWidget(m_playButton);
    toolRow()->addWidget(m_pace);
    toolRow()->addStretch(1);
    connect(stepButton, &QPushButton::clicked, this, &StagesPanel::stageRequested);
    connect(m_playButton, &QPushButton::toggled, this, &StagesPanel::setPlaying);
    connect(m_pace, &QComboBox::currentIndexChanged, this,
            [this] { m_play.setInterval(m_pace->currentData().toInt()); });
    connect(&m_play, &QTimer::timeout, this, &StagesPanel::stageRequested);
}

// As wide as the longest stage name in the list's font, and no wider.
void StagesPanel::fitList() {
    int w = 0;
    for (int i = 0; i < m_list->count(); ++i)
        w = std::max(w, m_list->fontMetrics().horizontalAdvance(m_list->item(i)->text()));
    m_list->setFixedWidth(w + 2 * m_list->frameWidth() + m_list->fontMetrics().averageCharWidth() * 2);
}

bool StagesPanel::eventFilter(QObject* watched, QEvent* e) {
    if (watched == m_list && e->type() == QEvent::FontChange) fitList();
    return Panel::eventFilter(watched, e);
}

void StagesPanel::setPlaying(bool on) {
    if (on == m_play.isActive()) return;
    if (on)
        m_play.start();
    else
        m_play.stop();
    m_playButton->setChecked(on);
}

void StagesPanel::beginRun(const Config&, const QColor&) {
    setPlaying(false);
    m_shown = -1;
    m_step = 0;
    m_title->setText(tr("Press Step into (F11) to take the next stage of a training step."));
    m_text->setText(tr("Each stage is the trainer's own code, run one part at a time: the run "
                       "gives the same numbers as one taken whole."));
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    markDirty();
}

QStringList StagesPanel::panelsOf(StepStage s) {
    switch (s) {
    case StepStage::Forward: return {QStringLiteral("loss"), QStringLiteral("boundary")};
    case StepStage::Backward: return {QStringLiteral("weightmap")};
    case StepStage::Aux: return {QStringLiteral("lr")};
    case StepStage::Propose: return {QStringLiteral("lr")};
    case StepStage::Project: return {QStringLiteral("constraint")};
    case StepStage::Apply: return {QStringLiteral("weightmap"), QStringLiteral("weights")};
    case StepStage::Requantize:
        return {QStringLiteral("weightmap"), QStringLiteral("flips"), QStringLiteral("quant")};
    case StepStage::Observe: return {QStringLiteral("loss")};
    }
    return {};
}

QString StagesPanel::explanation() const { return m_title->text() + '\n' + m_text->text(); }

void StagesPanel::applyStage(const StageReport& r) {
    m_shown = int(r.stage);
    m_step = r.step;
    m_title->setText(tr("Step %1 · %2").arg(r.step).arg(QString::fromStdString(r.title)));
    m_text->setText(QString::fromStdString(r.text));
    fillTable(r);
    emit panelsTouched(panelsOf(r.stage));
    markDirty();
}

void StagesPanel::fillTable(const StageReport& r) {
    m_table->clear();
    const auto cols = tensorColumns(r.stage);
    if (!cols.empty() && r.data.contains("tensors")) {
        QStringList headers{tr("tensor")};
        for (const auto& c : cols) headers << c.second;
        m_table->setColumnCount(int(headers.size()));
        m_table->setHorizontalHeaderLabels(headers);
        const auto& tensors = r.data["tensors"];
        m_table->setRowCount(int(tensors.size()));
        for (int i = 0; i < int(tensors.size()); ++i) {
            const auto& t = tensors[size_t(i)];
            m_table->setItem(i, 0, new QTableWidgetItem(QString::fromStdString(t.value("name", ""))));
            for (int c = 0; c < int(cols.size()); ++c)
                m_table->setItem(i, c + 1, new QTableWidgetItem(number(t.value(cols[size_t(c)].first,
                                                                               nlohmann::json()))));
            // a tensor the trust region cut is marked in the constraint panel's colour
            if (t.value("cut", false))
                for (int c = 0; c <= int(cols.size()); ++c)
                    m_table->item(i, c)->setBackground(QColor(colours::constraint.red(),
                                                              colours::constraint.green(),
                                                              colours::constraint.blue(), 50));
        }
    } else {
        const auto rows = scalarRows(r.stage);
        m_table->setColumnCount(2);
        m_table->setHorizontalHeaderLabels({tr("figure"), tr("value")});
        m_table->setRowCount(int(rows.size()));
        for (int i = 0; i < int(rows.size()); ++i) {
            m_table->setItem(i, 0, new QTableWidgetItem(rows[size_t(i)].second));
            m_table->setItem(i, 1, new QTableWidgetItem(
                                       number(r.data.value(rows[size_t(i)].first, nlohmann::json()))));
        }
    }
    m_table->resizeColumnsToContents();
}

void StagesPanel::redraw() {
    for (int i = 0; i < m_list->count(); ++i) {
        QListWidgetItem* it = m_list->item(i);
        QFont f = it->font();
        f.setBold(i == m_shown);
        it->setFont(f);
        it->setBackground(i == m_shown ? QColor(255, 236, 179) : QColor(Qt::transparent));
        it->setForeground(i < m_shown ? QColor(120, 120, 120) : palette().color(QPalette::Text));
    }
}

}  // namespace h158::ui
