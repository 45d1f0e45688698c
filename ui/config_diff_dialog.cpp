#include "ui/config_diff_dialog.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace h158::ui {

std::vector<std::array<QString, 3>> configDiffRows(const Config& a, const Config& b,
                                                   bool onlyDifferences) {
    std::vector<std::array<QString, 3>> differ, same;
    for (const FieldSpec& f : configSchema()) {
        const QString va = QString::fromStdString(f.toString(a));
        const QString vb = QString::fromStdString(f.toString(b));
        (va == vb ? same : differ).push_back({QString::fromStdString(f.key), va, vb});
    }
    if (!onlyDifferences) differ.insert(differ.end(), same.begin(), same.end());
    return differ;
}

QDialog* showConfigDiff(QWidget* parent, const ConfigDiffSide& a, const ConfigDiffSide& b) {
    auto* dialog = new QDialog(parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(QObject::tr("Compare configurations"));
    auto* v = new QVBoxLayout(dialog);
    auto* only = new QCheckBox(QObject::tr("Only the settings that differ"));
    only->setChecked(true);
    v->addWidget(only);
    auto* names = new QLabel(QObject::tr("<b>A</b> %1<br><b>B</b> %2")
                                 .arg(a.name.toHtmlEscaped(), b.name.toHtmlEscaped()));
    names->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->insertWidget(0, names);
    auto* table = new QTableWidget(0, 3);
    table->setHorizontalHeaderLabels({QObject::tr("Setting"), QObject::tr("A: %1").arg(a.label),
                                      QObject::tr("B: %1").arg(b.label)});
    table->horizontalHeaderItem(1)->setToolTip(a.dir);
    table->horizontalHeaderItem(2)->setToolTip(b.dir);
    table->setWordWrap(false);
    table->setTextElideMode(Qt::ElideMiddle);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    v->addWidget(table, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    v->addWidget(buttons);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    const Config ca = a.config, cb = b.config;
    const auto fill = [table, ca, cb](bool onlyDiff) {
        const auto rows = configDiffRows(ca, cb, onlyDiff);
        table->setRowCount(int(rows.size()));
        for (int r = 0; r < int(rows.size()); ++r) {
            const bool differs = rows[size_t(r)][1] != rows[size_t(r)][2];
            for (int c = 0; c < 3; ++c) {
                auto* it = new QTableWidgetItem(rows[size_t(r)][size_t(c)]);
                it->setToolTip(it->text());
                if (differs) {
                    QFont f = it->font();
                    f.setBold(true);
                    it->setFont(f);
                    it->setBackground(QColor(255, 243, 205));
                }
                table->setItem(r, c, it);
            }
        }
    };
    fill(true);
    QObject::connect(only, &QCheckBox::toggled, dialog, fill);
    dialog->resize(640, 420);
    dialog->show();
    return dialog;
}

}  // namespace h158::ui
