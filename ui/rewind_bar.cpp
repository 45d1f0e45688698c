#include "ui/rewind_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QStyle>
#include <QToolButton>
#include <algorithm>
#include <climits>

namespace h158::ui {

RewindBar::RewindBar(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("rewind"));
    auto* h = new QHBoxLayout(this);
    h->setContentsMargins(6, 0, 6, 0);
    h->setSpacing(8);
    auto* title = new QLabel(tr("Step"));
    title->setToolTip(tr("Rewind: the decision boundary, clusters, weights, precision, samples "
                         "and network at any step of the run, from its snapshots"));
    h->addWidget(title);
    m_slider = new QSlider(Qt::Horizontal);
    m_slider->setObjectName(QStringLiteral("rewindSlider"));
    m_slider->setToolTip(title->toolTip() + tr(" (the snapshot at or before the step)"));
    title->setBuddy(m_slider);
    h->addWidget(m_slider, 3);
    m_text = new QLabel;
    m_text->setObjectName(QStringLiteral("rewindText"));
    m_text->setMinimumWidth(fontMetrics().horizontalAdvance(
        QStringLiteral("step 10000000 of 10000000 (rewound) · live at 10000000")));
    m_text->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    h->addWidget(m_text, 2);
    m_live = new QToolButton;
    m_live->setObjectName(QStringLiteral("rewindLive"));
    m_live->setText(tr("Live"));
    m_live->setIcon(style()->standardIcon(QStyle::SP_MediaSeekForward));
    m_live->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_live->setCheckable(true);
    m_live->setToolTip(tr("Follow the run: show its newest snapshot as it trains"));
    h->addWidget(m_live);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);

    connect(m_slider, &QSlider::valueChanged, this, [this](int v) {
        if (m_setting) return;
        setFollowing(false);
        emit stepChosen(v);
    });
    connect(m_live, &QToolButton::clicked, this, [this] {
        // Live stays down while following; pressing it then changes nothing
        const bool was = m_following;
        setFollowing(true);
        if (!was) emit liveRequested();
    });
    setRun(0, 1, false, false);
}

void RewindBar::setRun(int64_t lastStep, int64_t every, bool live, bool enabled) {
    m_setting = true;
    const int last = int(std::clamp<int64_t>(lastStep, 0, INT_MAX));
    const int single = int(std::clamp<int64_t>(every, 1, std::max(1, last)));
    m_slider->setRange(0, last);
    m_slider->setSingleStep(single);
    m_slider->setPageStep(std::max(single, last / 10));
    if (m_following) m_slider->setValue(last);
    m_setting = false;
    m_slider->setEnabled(enabled && last > 0);
    m_live->setEnabled(live);
    if (!live) setFollowing(false);
}

void RewindBar::setFollowing(bool on) {
    m_following = on;
    m_live->setChecked(on);
    if (on) setStep(m_slider->maximum());
}

void RewindBar::setStep(int64_t step) {
    m_setting = true;
    m_slider->setValue(int(std::clamp<int64_t>(step, 0, INT_MAX)));
    m_setting = false;
}

int64_t RewindBar::step() const {
    return m_slider->value();
}

void RewindBar::setText(const QString& text) {
    if (m_text->text() != text) m_text->setText(text);
}

QString RewindBar::text() const {
    return m_text->text();
}

}  // namespace h158::ui
