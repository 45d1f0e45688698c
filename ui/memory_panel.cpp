#include "ui/memory_panel.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

#include "core/io/memory_table.h"

namespace h158::ui {

namespace {
QString count(double n) {
    if (n >= 1e9) return QString::number(n / 1e9, 'f', 2) + "B";
    if (n >= 1e6) return QString::number(n / 1e6, 'f', 2) + "M";
    if (n >= 1e3) return QString::number(n / 1e3, 'f', 1) + "k";
    return QString::number(n, 'f', 0);
}
QString bytes(double b) {
    return QString::fromStdString(formatBytes(b));
}
}  // namespace

MemoryPanel::MemoryPanel(QWidget* parent) : QWidget(parent) {
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(4, 4, 4, 4);
    m_table = new QTableWidget(0, 7);
    m_table->setHorizontalHeaderLabels({tr("Model"), tr("Params"), tr("fp32"), tr("fp16"),
                                        tr("1.58-bit ideal"), tr(".h158 file"), tr("fp32/.h158")});
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    v->addWidget(m_table, 1);
    m_note =
        new QLabel(tr("Weight storage only. The .h158 file packs every ternary weight 5 "
                      "trits per byte (1.6 bits) with its scales; embeddings, norms and "
                      "the head stay fp32. Five-level weights take 2.67 bits, int8 ones 8. "
                      "With adaptive levels the file's size is known after training."));
    m_note->setWordWrap(true);
    m_note->setStyleSheet(QStringLiteral("color: #666;"));
    v->addWidget(m_note);
}

int MemoryPanel::rowCount() const {
    return m_table->rowCount();
}

void MemoryPanel::setConfig(const Config& cfg) {
    const nlohmann::json j = toJson(cfg);
    const std::string key =
        j["model"].dump() + j["quant"].dump() + j["data"].dump() + j["cluster"].dump();
    if (key == m_key) return;
    m_key = key;
    std::vector<MemoryRow> rows;
    try {
        // a CSV model's widths come from reading the file: not on the UI thread
        if (cfg.model.kind == "gpt" || cfg.data.kind != "csv")
            rows.push_back(memoryRow(cfg, "this model"));
    } catch (const std::exception& e) {
        m_note->setToolTip(QString::fromStdString(e.what()));
    }
    try {
        const bool perRow = cfg.quant.granularity == "row";
        for (const ModelShape& s : referenceShapes()) rows.push_back(memoryRow(s, perRow, cfg));
    } catch (const std::exception& e) {
        m_note->setToolTip(QString::fromStdString(e.what()));
    }
    m_table->setRowCount(int(rows.size()));
    for (int i = 0; i < int(rows.size()); ++i) {
        const MemoryRow& r = rows[size_t(i)];
        const QStringList cells = {
            QString::fromStdString(r.name),
            count(r.params),
            bytes(r.fp32Bytes),
            bytes(r.fp16Bytes),
            bytes(r.ideal158Bytes),
            bytes(r.packedBytes),
            r.packedBytes > 0 ? QStringLiteral("%1×").arg(r.fp32Bytes / r.packedBytes, 0, 'f', 1)
                              : QStringLiteral("–")};
        for (int c = 0; c < cells.size(); ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            if (r.packedLevels == "adaptive")
                item->setToolTip(
                    tr("quant.weights=adaptive: each tensor's levels are chosen "
                       "during training, so the .h158 size is counted from the "
                       "run's weights.h158 (hybrid158-cli memory --run DIR)"));
            if (c > 0) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (i == 0) {
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
            }
            m_table->setItem(i, c, item);
        }
    }
}

}  // namespace h158::ui
