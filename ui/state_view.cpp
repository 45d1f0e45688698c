#include "ui/state_view.h"

#include <QHBoxLayout>
#include <QLabel>

namespace h158::ui {

void StateView::addStepBadge(QHBoxLayout* header, QWidget* yields) {
    m_yields = yields;
    m_badge = new QLabel;
    m_badge->setObjectName(QStringLiteral("stepBadge"));
    // amber: not the live run's newest state (the colour of a paused or held view)
    m_badge->setStyleSheet(QStringLiteral("QLabel { background: #fff1cc; color: #6b4400; border: "
                                          "1px solid #f0c36d; border-radius: 3px; padding: 0 3px; }"));
    m_badge->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    m_badge->hide();
    header->insertWidget(1, m_badge);
}

void StateView::setStepCaption(int64_t step, const QString& caption) {
    m_caption = caption;
    if (!m_badge) return;
    m_badge->setText(step >= 0 ? QObject::tr("step %1").arg(step) : QObject::tr("no snapshot"));
    m_badge->setToolTip(caption);
    m_badge->setVisible(!caption.isEmpty());
    if (m_yields) m_yields->setVisible(caption.isEmpty());
}

int StateView::stepBadgeWidth() const {
    return m_badge && !m_badge->isHidden() ? m_badge->sizeHint().width() : 0;
}

QString StateView::stepBadge() const {
    return m_badge && !m_badge->isHidden() ? m_badge->text() : QString();
}

}  // namespace h158::ui
