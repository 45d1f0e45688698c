#include "ui/seed_groups.h"

#include <QObject>
#include <QStandardItem>
#include <algorithm>
#include <cmath>

#include "core/exp/run_compare.h"
#include "ui/runs_model.h"

namespace h158::ui {

QString seedGroupKey(const Config& c) {
    QString key;
    for (const FieldSpec& f : configSchema()) {
        if (f.key == "run.seed" || isResultNeutralKey(f.key)) continue;
        key += QString::fromStdString(f.key + "=" + f.toString(c)) + QChar('\n');
    }
    return key;
}

bool joinsSeedGroups(const RunEntry& e) {
    return e.config && e.state != RunState::Unreadable && e.parent.isEmpty();
}

SeedGroups findSeedGroups(const std::vector<const RunEntry*>& order) {
    SeedGroups groups;
    for (const RunEntry* e : order)
        if (joinsSeedGroups(*e)) groups[seedGroupKey(*e->config)].push_back(e);
    return groups;
}

QString seedGroupOf(const SeedGroups& groups, const RunEntry& e) {
    if (!joinsSeedGroups(e)) return {};
    const QString key = seedGroupKey(*e.config);
    const auto g = groups.find(key);
    return g != groups.end() && g->second.size() >= 2 ? key : QString();
}

void fillSeedGroupRow(const QList<QStandardItem*>& cells, const QString& key,
                      const std::vector<const RunEntry*>& members,
                      const std::vector<std::string>& keys,
                      const std::vector<std::string>& diffKeys, const SeedGroupMark& mark) {
    QStandardItem* name = cells[RunsModel::ColName];
    std::vector<std::string> apart = diffKeys;
    std::erase(apart, std::string("run.seed"));
    QString label = QString::fromStdString(differenceLabel(*members[0]->config, apart));
    if (label.isEmpty()) label = members[0]->name;
    name->setText(QObject::tr("%1 · %2 seeds").arg(label).arg(members.size()));
    name->setData(name->text(), kRunSortRole);
    name->setData(0, kRunIdRole);
    name->setData(key, kRunGroupRole);
    name->setCheckable(true);
    name->setCheckState(mark.ticked ? Qt::Checked : Qt::Unchecked);
    name->setIcon(runSwatch(mark.ticked ? mark.colour : QColor()));
    name->setToolTip(QObject::tr("%1 runs equal but for run.seed: figures are mean ± sample std; "
                                 "tick to draw their mean with a min–max band")
                         .arg(members.size()));

    std::map<QString, int> states;
    int64_t steps = 0;
    for (const RunEntry* m : members) {
        ++states[stateName(m->state)];
        steps = std::max(steps, m->step);
    }
    QStringList st;
    for (const auto& [s, n] : states) st << QStringLiteral("%1 %2").arg(n).arg(s);
    QStandardItem* state = cells[RunsModel::ColState];
    state->setText(st.join(", "));
    state->setData(state->text(), kRunSortRole);
    cells[RunsModel::ColStep]->setText(QString::number(steps));
    cells[RunsModel::ColStep]->setData(qlonglong(steps), kRunSortRole);

    for (size_t k = 0; k < keys.size(); ++k) {
        QStandardItem* c = cells[RunsModel::ColFirstKey + int(k)];
        if (keys[k] == "run.seed") {
            c->setText(QObject::tr("%1 seeds").arg(members.size()));
            continue;
        }
        setSettingCell(c, *members[0]->config, keys[k]);
    }
    const int firstFigure = RunsModel::ColFirstKey + int(keys.size());
    for (int fi = 0; fi < kRunFigureCount; ++fi) {
        std::vector<double> values;
        for (const RunEntry* m : members) values.push_back(runFigure(*m, fi));
        const MeanStd s = meanStd(values);
        QStandardItem* c = cells[firstFigure + fi];
        if (s.count > 0) {
            c->setText(std::isfinite(s.std) ? QStringLiteral("%1 ± %2").arg(
                                                  figureText(s.mean, kRunFigures[fi].precision),
                                                  figureText(s.std, 2))
                                            : figureText(s.mean, kRunFigures[fi].precision));
            c->setData(s.mean, kRunSortRole);
            c->setToolTip(QObject::tr("mean ± sample std over %1 of %2 runs")
                              .arg(s.count)
                              .arg(members.size()));
        }
        c->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    }
}

}  // namespace h158::ui
