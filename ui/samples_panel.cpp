#include "ui/samples_panel.h"

#include <QTextBrowser>

namespace h158::ui {

SamplesPanel::SamplesPanel(QWidget* parent) : Panel(tr("Text samples"), parent) {
    addStepBadge(header());
    m_text = new QTextBrowser;
    m_text->setFrameShape(QFrame::NoFrame);
    m_text->setOpenLinks(false);
    setContent(m_text);
}

void SamplesPanel::beginRun(const Config& cfg, const QColor&) {
    m_samples.clear();
    setNote(cfg.sample.every > 0 ? QString() : tr("Text samples are off (sample.every = 0)."));
    m_text->setHtml(tr("<p style='color:#888'>The first sample appears after %1 steps.</p>")
                        .arg(cfg.sample.every));
}

void SamplesPanel::applySnapshot(const Snapshot& s) {
    if (s.kind != "samples") return;
    const auto& d = s.data;
    const QString prompt = QString::fromStdString(d.value("prompt", std::string())).toHtmlEscaped();
    QString text = QString::fromStdString(d.value("text", std::string())).toHtmlEscaped();
    text.replace('\n', QStringLiteral("<br>"));
    QString p = prompt;
    p.replace('\n', QStringLiteral("<br>"));
    const QString html =
        QStringLiteral(
            "<div style='margin-bottom:8px'><span style='color:#777'>step %1 · "
            "temperature %2 · top-k %3</span><br><span style='font-family:monospace'>"
            "<b>%4</b>%5</span></div>")
            .arg(s.step)
            .arg(d.value("temperature", 0.0))
            .arg(d.value("top_k", 0))
            .arg(p, text);
    m_samples.prepend(html);
    while (m_samples.size() > kMaxSamples) m_samples.removeLast();
    markDirty();
}

void SamplesPanel::redraw() {
    m_text->setHtml(m_samples.join(QString()));
}

}  // namespace h158::ui
