#include "ui/status_view.h"

#include <QLabel>
#include <QMap>
#include <QProgressBar>
#include <QStatusBar>
#include <climits>

namespace h158::ui {

namespace {
QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("–");
    const qint64 s = qint64(seconds + 0.5);
    const QChar zero('0');
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, zero)
            .arg(s % 60, 2, 10, zero);
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, zero);
}

QString dotColour(RunState s) {
    switch (s) {
        case RunState::Running:
            return QStringLiteral("#2e7d32");
        case RunState::Paused:
            return QStringLiteral("#ef6c00");
        case RunState::Starting:
        case RunState::Completed:
            return QStringLiteral("#1565c0");
        case RunState::Diverged:
        case RunState::Failed:
        case RunState::Unreadable:
            return QStringLiteral("#c62828");
        case RunState::Stopped:
        case RunState::Interrupted:
            return QStringLiteral("#6d6d6d");
        case RunState::Idle:
            break;
    }
    return QStringLiteral("#9e9e9e");
}
}  // namespace

StatusView::StatusView(QStatusBar* bar) : QObject(bar) {
    m_state = new QLabel;
    m_step = new QLabel;
    m_rate = new QLabel;
    m_eta = new QLabel;
    m_progress = new QProgressBar;
    m_progress->setMaximumWidth(260);
    m_progress->setTextVisible(true);
    m_state->setMinimumWidth(110);
    m_step->setMinimumWidth(150);
    m_rate->setMinimumWidth(130);
    m_eta->setMinimumWidth(90);
    bar->addWidget(m_state);
    bar->addWidget(m_step);
    bar->addWidget(m_rate);
    bar->addWidget(m_eta);
    bar->addPermanentWidget(m_progress);
    m_clock.start();
}

void StatusView::restartRate() {
    m_window.clear();
    m_stepsPerSecond = 0;
}

void StatusView::update(RunState s, int64_t done, int64_t total,
                        const std::vector<StepMetrics>* rows) {
    const bool running = s == RunState::Running;
    if (running) {
        const qint64 now = m_clock.elapsed();
        m_window.emplace_back(now, done);
        while (m_window.size() > 2 && now - m_window.front().first > 2000) m_window.pop_front();
        const auto& [t0, s0] = m_window.front();
        if (now - t0 >= 250) m_stepsPerSecond = double(done - s0) * 1000.0 / double(now - t0);
    } else {
        m_window.clear();
    }
    const bool ended = isFinal(s) && rows && !rows->empty() && rows->back().elapsed_ms > 0;
    if (ended) m_stepsPerSecond = double(done) * 1000.0 / rows->back().elapsed_ms;
    m_state->setText(
        QStringLiteral("<span style='color:%1'>●</span> %2").arg(dotColour(s), stateName(s)));
    m_step->setText(tr("step %1 of %2").arg(done).arg(total));
    const QString rate = QString::number(m_stepsPerSecond, 'f', m_stepsPerSecond < 100 ? 1 : 0);
    m_rate->setText(ended     ? tr("mean %1 steps/s").arg(rate)
                    : running ? tr("%1 steps/s").arg(rate)
                              : QString());
    const double eta = m_stepsPerSecond > 0 ? double(total - done) / m_stepsPerSecond : kNoValue;
    m_eta->setText(running ? tr("ETA %1").arg(formatDuration(eta)) : QString());
    m_progress->setRange(0, int(std::min<int64_t>(total, INT_MAX)));
    m_progress->setValue(int(std::min<int64_t>(done, INT_MAX)));
}

QString StatusView::text() const {
    return QStringList{m_state->text(), m_step->text(), m_rate->text(), m_eta->text()}.join(
        QStringLiteral(" | "));
}

}  // namespace h158::ui
