// The K-Means teaching panel: a scatter of the clustered points with membership lines, centroid
// marks and trails, an inertia-per-move curve under it, and one sentence on the move just made.
#include "ui/kmeans_panel.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMouseEvent>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <numeric>

#include "core/cluster/pca.h"
#include "core/config/config.h"
#include "core/data/dataset.h"
#include "ui/plot_utils.h"
#include "ui/theme.h"

namespace h158::ui {

namespace {

constexpr int kMaxIterations = 300;  // Lloyd iterations of "Run to convergence" (kmeans' default)
constexpr double kGrabPixels = 14.0;  // a press this close to a centroid grabs it

QString number(double v) { return QLocale().toString(v, 'g', 5); }
QString count(int64_t n) { return QLocale().toString(qlonglong(n)); }

// Columns 0, n/m, 2n/m, ... (m of them) when n > m, else all.
std::vector<int64_t> strided(int64_t n, int64_t m) {
    std::vector<int64_t> cols;
    const int64_t take = std::min(n, m);
    for (int64_t i = 0; i < take; ++i) cols.push_back(i * n / take);
    return cols;
}

}  // namespace

KMeansPanel::KMeansPanel(QWidget* parent) : Panel(tr("K-Means, move by move"), parent) {
    setObjectName(QStringLiteral("kmeans"));
    m_info = addInfoLabel();
    QHBoxLayout* row = toolRow();
    auto button = [&](QPushButton*& b, const QString& text, const char* name, const QString& tip) {
        b = new QPushButton(text);
        b->setObjectName(QString::fromLatin1(name));
        b->setToolTip(tip);
        row->addWidget(b);
    };
    button(m_assign, tr("Assign"), "kmeansAssign",
           tr("Assign: every point joins its nearest centroid"));
    button(m_update, tr("Update"), "kmeansUpdate",
           tr("Update: every centroid moves to the mean of its points"));
    button(m_run, tr("Run to convergence"), "kmeansRun",
           tr("Assign and Update until no point changes cluster"));
    button(m_newStart, tr("New start"), "kmeansNewStart",
           tr("New k-means++ seeds (the next seed); or drag a centroid on the plot"));
    m_kSpin = new QSpinBox;
    m_kSpin->setObjectName(QStringLiteral("kmeansK"));
    m_kSpin->setRange(1, kMaxK);
    m_kSpin->setValue(4);
    m_kSpin->setPrefix(QStringLiteral("k = "));
    m_kSpin->setToolTip(tr("Number of clusters (a new start)"));
    row->addWidget(m_kSpin);
    row->addStretch(1);
    connect(m_assign, &QPushButton::clicked, this, &KMeansPanel::assign);
    connect(m_update, &QPushButton::clicked, this, &KMeansPanel::update);
    connect(m_run, &QPushButton::clicked, this, &KMeansPanel::runToConvergence);
    connect(m_newStart, &QPushButton::clicked, this, &KMeansPanel::newStart);
    connect(m_kSpin, &QSpinBox::valueChanged, this, [this] {
        if (ensureData()) startFrom(nullptr);
    });

    QCustomPlot* p = createPlot(QStringLiteral("kmeans"));
    // The plot and the sentence under it share the view's place.
    auto* box = new QWidget;
    auto* v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);
    v->addWidget(p, 1);
    p->show();  // the stack hid it when it was reparented
    m_explain = new QLabel;
    m_explain->setObjectName(QStringLiteral("kmeansExplanation"));
    m_explain->setWordWrap(true);
    m_explain->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(m_explain);
    setContent(box);

    m_scatterRect = p->axisRect(0);
    m_inertiaRect = new QCPAxisRect(p);
    styleAxisRect(m_inertiaRect);
    // The inertia curve beside the scatter: the Mechanism page's rows are wider than tall.
    p->plotLayout()->addElement(0, 1, m_inertiaRect);
    p->plotLayout()->setColumnStretchFactors({2.4, 1.0});
    p->setMinimumHeight(110);
    m_inertiaRect->setMinimumSize(60, 50);
    m_inertiaRect->axis(QCPAxis::atBottom)->setLabel(tr("move"));
    m_inertiaRect->axis(QCPAxis::atLeft)->setLabel(tr("inertia"));
    m_inertiaRect->axis(QCPAxis::atLeft)->ticker()->setTickCount(4);
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_inertiaRect->axis(QCPAxis::atBottom)->setTicker(ticker);
    m_inertiaRect->axis(QCPAxis::atBottom)->ticker()->setTickCount(4);
    for (QCPAxis* a : m_inertiaRect->axes()) a->setLayer(QStringLiteral("axes"));
    m_inertiaRect->setRangeDrag(Qt::Horizontal);
    m_inertiaRect->setRangeZoom(Qt::Horizontal);

    QCPAxis* sx = m_scatterRect->axis(QCPAxis::atBottom);
    QCPAxis* sy = m_scatterRect->axis(QCPAxis::atLeft);
    m_unassigned = p->addGraph(sx, sy);
    m_unassigned->setName(tr("not yet assigned"));
    m_unassigned->setLineStyle(QCPGraph::lsNone);
    m_unassigned->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDisc, colours::levelZero.darker(110), 4));
    for (int c = 0; c < kMaxK; ++c) {
        const QColor col = clusterColour(c);
        QColor faint = col;
        faint.setAlpha(90);
        auto* lines = new QCPCurve(sx, sy);
        lines->setName(tr("members of %1").arg(c));
        lines->setPen(QPen(faint, 0.8));
        lines->setScatterStyle(QCPScatterStyle::ssNone);
        m_memberLines.push_back(lines);
        QCPGraph* g = p->addGraph(sx, sy);
        g->setName(tr("cluster %1").arg(c));
        g->setLineStyle(QCPGraph::lsNone);
        QColor fill = col;
        fill.setAlpha(170);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, fill, 5));
        m_clusterPoints.push_back(g);
        auto* trail = new QCPCurve(sx, sy);
        trail->setName(tr("path of centroid %1").arg(c));
        trail->setPen(QPen(col.darker(150), 1.4, Qt::DashLine));
        trail->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, col.darker(150), 5));
        trail->setLayer(QStringLiteral("overlay"));
        m_trails.push_back(trail);
        QCPGraph* mark = p->addGraph(sx, sy);
        mark->setName(tr("centroid %1").arg(c));
        mark->setLineStyle(QCPGraph::lsNone);
        mark->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(Qt::black, 2.0), col, 20));
        mark->setLayer(QStringLiteral("overlay"));
        m_centroidMarks.push_back(mark);
    }
    QCPAxis* ix = m_inertiaRect->axis(QCPAxis::atBottom);
    QCPAxis* iy = m_inertiaRect->axis(QCPAxis::atLeft);
    m_inertiaLine = p->addGraph(ix, iy);
    m_inertiaLine->setName(tr("inertia after each move"));
    m_inertiaLine->setPen(QPen(colours::loss, 1.5));
    m_assignMarks = p->addGraph(ix, iy);
    m_assignMarks->setName(tr("after Assign"));
    m_assignMarks->setLineStyle(QCPGraph::lsNone);
    m_assignMarks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, colours::loss, 6));
    m_updateMarks = p->addGraph(ix, iy);
    m_updateMarks->setName(tr("after Update"));
    m_updateMarks->setLineStyle(QCPGraph::lsNone);
    m_updateMarks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare,
                                                   QPen(colours::loss, 1.5), Qt::white, 6));
    p->installEventFilter(this);
    updateButtons();
}

void KMeansPanel::beginRun(const Config& cfg, const QColor&) { setConfig(cfg); }

void KMeansPanel::setConfig(const Config& cfg) {
    nlohmann::json key = toJson(cfg)["data"];
    key["seed"] = cfg.run.seed;
    key["context"] = cfg.model.context;  // text windows depend on it
    const std::string dataKey = key.dump();
    if (dataKey == m_dataKey) return;
    m_dataKey = dataKey;
    m_cfg = cfg;
    m_stale = true;
    const QSignalBlocker block(m_kSpin);
    m_kSpin->setValue(cfg.cluster.data_k > 0 ? int(std::min<int64_t>(cfg.cluster.data_k, kMaxK))
                                             : 4);
    if (isVisible()) ensureData();
}

void KMeansPanel::showEvent(QShowEvent* e) {
    Panel::showEvent(e);
    ensureData();
}

// Builds the points from the configuration when it changed: its 2-D inputs, else the PCA
// projection of its clustering features (what the Data clusters panel draws), thinned to
// kMaxPoints. On the GUI thread: makeDataset is cheap for the synthetic sets and the built-in
// corpus (milliseconds); a large CSV or text file makes the first show of this panel wait.
bool KMeansPanel::ensureData() {
    if (!m_stale) return m_stepper.has_value();
    m_stale = false;
    m_stepper.reset();
    m_points.resize(0, 0);
    m_inertias.clear();
    m_isAssign.clear();
    try {
        const auto data = makeDataset(m_cfg);
        MatF all = data->trainInputs2d();
        m_space = tr("inputs");
        if (all.size() == 0) {
            all = fitPca2d(data->clusterFeatures()).coords;
            m_space = tr("PCA of the clustering features");
        }
        m_total = all.cols();
        const std::vector<int64_t> cols = strided(all.cols(), kMaxPoints);
        m_points.resize(2, int64_t(cols.size()));
        for (size_t j = 0; j < cols.size(); ++j) m_points.col(int64_t(j)) = all.col(cols[j]);
    } catch (const std::exception& e) {
        m_points.resize(0, 0);
        setNote(tr("No data to cluster: %1").arg(QString::fromStdString(e.what())));
        updateButtons();
        return false;
    }
    setNote(QString());
    const bool plane = m_space == tr("inputs");
    m_scatterRect->axis(QCPAxis::atBottom)->setLabel(plane ? QStringLiteral("x₁") : tr("PC 1"));
    m_scatterRect->axis(QCPAxis::atLeft)->setLabel(plane ? QStringLiteral("x₂") : tr("PC 2"));
    m_seed = uint64_t(m_cfg.run.seed);
    m_starts = 0;
    startFrom(nullptr);
    if (interaction()) interaction()->resetView();
    return m_stepper.has_value();
}

// A new start: k-means++ seeds with m_seed, or the given centroids (2, k).
void KMeansPanel::startFrom(const MatF* centroids) {
    const int k = int(std::min<int64_t>(m_kSpin->value(), m_points.cols()));
    try {
        if (centroids)
            m_stepper->setCentroids(*centroids);
        else if (m_stepper && m_stepper->k() == k)
            m_stepper->restart(m_seed);
        else
            m_stepper.emplace(m_points, k, m_seed);
    } catch (const std::exception& e) {
        m_stepper.reset();
        setNote(tr("K-Means cannot start: %1").arg(QString::fromStdString(e.what())));
        updateButtons();
        return;
    }
    ++m_starts;
    m_inertias.clear();
    m_isAssign.clear();
    m_path.assign(size_t(k), {});
    const MatF c = m_stepper->centroids();
    for (int i = 0; i < k; ++i) m_path[size_t(i)].push_back(QPointF(c(0, i), c(1, i)));
    if (!centroids)
        setExplanation(tr("New start: k-means++ placed %1 centroids on data points, each drawn "
                          "far from those already placed (seed %2). Press Assign, or drag a "
                          "centroid (◆) to start from there.")
                           .arg(k)
                           .arg(m_seed));
    showState();
}

void KMeansPanel::newStart() {
    if (!ensureData() && m_points.size() == 0) return;
    ++m_seed;
    startFrom(nullptr);
}

void KMeansPanel::assign() {
    if (!ensureData()) return;
    const bool before = m_stepper->assigned();
    const int64_t changed = m_stepper->assign();
    m_lastChanged = changed;
    m_inertias.push_back(m_stepper->inertia());
    m_isAssign.push_back(true);
    const QString inertia = number(m_inertias.back());
    if (!before)
        setExplanation(tr("Assign: every point joined its nearest centroid. The inertia, the sum "
                          "of squared distances from each point to its centroid, is %1.")
                           .arg(inertia));
    else if (changed == 0)
        setExplanation(tr("Assign: no point changed cluster, so the next Update cannot move a "
                          "centroid: K-Means has converged (inertia %1).")
                           .arg(inertia));
    else
        setExplanation(tr("Assign: %1 points moved to a nearer centroid, which can only lower "
                          "the inertia: now %2.")
                           .arg(count(changed))
                           .arg(inertia));
    showState();
}

void KMeansPanel::update() {
    if (!ensureData()) return;
    if (!m_stepper->assigned()) {
        setExplanation(tr("Update needs clusters: press Assign first."));
        return;
    }
    const int reseeded = m_stepper->update();
    m_inertias.push_back(m_stepper->inertia());
    m_isAssign.push_back(false);
    appendPath();
    QString s = m_stepper->shift() == 0.0
                    ? tr("Update: no centroid moved, they already sit at the means of their "
                         "points (inertia %1).")
                    : tr("Update: every centroid moved to the mean of its points, the place "
                         "that minimises their squared distances: inertia %1.");
    s = s.arg(number(m_inertias.back()));
    if (reseeded > 0)
        s += tr(" %1 empty cluster(s) took the point farthest from its centroid.").arg(reseeded);
    setExplanation(s);
    showState();
}

// Lloyd's loop as kmeans() runs it: Assign, Update, and stop after an Update when its Assign
// changed no label and it re-seeded no cluster, or when it moved no centroid. From a fresh
// start this ends on kmeans()'s centroids and labels with the same seed (tol = 0).
void KMeansPanel::runToConvergence() {
    if (!ensureData()) return;
    const size_t first = m_inertias.size();
    auto recordUpdate = [this] {
        const int reseeded = m_stepper->update();
        m_inertias.push_back(m_stepper->inertia());
        m_isAssign.push_back(false);
        appendPath();
        return reseeded;
    };
    auto recordAssign = [this] {
        m_lastChanged = m_stepper->assign();
        m_inertias.push_back(m_stepper->inertia());
        m_isAssign.push_back(true);
    };
    if (!m_stepper->assigned() || m_isAssign.empty() || !m_isAssign.back()) recordAssign();
    for (int it = 0; it < kMaxIterations; ++it) {
        const int reseeded = recordUpdate();
        if ((m_lastChanged == 0 && reseeded == 0) || m_stepper->shift() == 0.0) break;
        recordAssign();
    }
    setExplanation(tr("Run to convergence: %1 moves until no point changed cluster. The centroids "
                      "sit at a local minimum of the inertia (%2); a new start or a dragged "
                      "centroid may find a lower one.")
                       .arg(m_inertias.size() - first)
                       .arg(number(m_inertias.back())));
    showState();
}

// Each centroid's path gets its new position when it moved.
void KMeansPanel::appendPath() {
    const MatF c = m_stepper->centroids();
    for (int i = 0; i < int(m_path.size()); ++i)
        if (m_path[size_t(i)].back() != QPointF(c(0, i), c(1, i)))
            m_path[size_t(i)].push_back(QPointF(c(0, i), c(1, i)));
}

void KMeansPanel::dragCentroid(int i, const QPointF& to) {
    if (!ensureData() || i < 0 || i >= m_stepper->k()) return;
    MatF c = m_stepper->centroids();
    c(0, i) = float(to.x());
    c(1, i) = float(to.y());
    m_dragging = -1;
    startFrom(&c);
    setExplanation(tr("You moved centroid %1 to (%2, %3): a new start from your centroids. "
                      "Press Assign to see which points it wins.")
                       .arg(i)
                       .arg(number(to.x()))
                       .arg(number(to.y())));
}

MatF KMeansPanel::centroids() const { return m_stepper ? m_stepper->centroids() : MatF(); }

std::vector<int> KMeansPanel::labels() const {
    return m_stepper ? m_stepper->labels() : std::vector<int>();
}

QString KMeansPanel::explanation() const { return m_explain->text(); }

int KMeansPanel::k() const { return m_stepper ? m_stepper->k() : 0; }

QPointF KMeansPanel::centroidPixel(int i) const {
    const MatF c = centroids();
    if (i < 0 || i >= c.cols()) return {};
    return {m_scatterRect->axis(QCPAxis::atBottom)->coordToPixel(c(0, i)),
            m_scatterRect->axis(QCPAxis::atLeft)->coordToPixel(c(1, i))};
}

void KMeansPanel::setExplanation(const QString& text) { m_explain->setText(text); }

void KMeansPanel::updateButtons() {
    const bool on = m_stepper.has_value();
    m_assign->setEnabled(on);
    m_update->setEnabled(on && m_stepper->assigned());
    m_run->setEnabled(on);
    m_newStart->setEnabled(on || m_points.size() > 0);
}

// Everything drawn comes from the stepper: labels, centroids, inertia after each move.
void KMeansPanel::showState() {
    updateButtons();
    if (!m_stepper) return;
    const int k = m_stepper->k();
    MatF c = m_stepper->centroids();
    if (m_dragging >= 0) {
        c(0, m_dragging) = float(m_dragAt.x());
        c(1, m_dragging) = float(m_dragAt.y());
    }
    const std::vector<int>& labels = m_stepper->labels();
    const int64_t n = m_points.cols();
    std::vector<QVector<double>> px(kMaxK), py(kMaxK), lx(kMaxK), ly(kMaxK), lt(kMaxK);
    QVector<double> ux, uy;
    for (int64_t j = 0; j < n; ++j) {
        if (labels.empty()) {
            ux << m_points(0, j);
            uy << m_points(1, j);
        } else {
            px[size_t(labels[size_t(j)])] << m_points(0, j);
            py[size_t(labels[size_t(j)])] << m_points(1, j);
        }
    }
    const double nan = std::nan("");
    if (!labels.empty())
        for (int64_t j : strided(n, kMaxMemberLines)) {
            const size_t l = size_t(labels[size_t(j)]);
            lx[l] << m_points(0, j) << c(0, int64_t(l)) << nan;
            ly[l] << m_points(1, j) << c(1, int64_t(l)) << nan;
        }
    m_unassigned->setData(ux, uy);  // a scatter: QCPGraph sorts by x
    for (int i = 0; i < kMaxK; ++i) {
        const bool on = i < k;
        m_clusterPoints[size_t(i)]->setData(px[size_t(i)], py[size_t(i)]);
        QVector<double> t(lx[size_t(i)].size());
        std::iota(t.begin(), t.end(), 0.0);
        m_memberLines[size_t(i)]->setData(t, lx[size_t(i)], ly[size_t(i)], true);
        QVector<double> cx, cy, tt, tx, ty;
        if (on) {
            cx << c(0, i);
            cy << c(1, i);
            for (const QPointF& q : m_path[size_t(i)]) {
                tt << double(tt.size());
                tx << q.x();
                ty << q.y();
            }
        }
        m_centroidMarks[size_t(i)]->setData(cx, cy, true);
        m_trails[size_t(i)]->setData(tt, tx, ty, true);
    }
    QVector<double> mx, my, ax, ay, ux2, uy2;
    for (size_t m = 0; m < m_inertias.size(); ++m) {
        mx << double(m + 1);
        my << m_inertias[m];
        (m_isAssign[m] ? ax : ux2) << double(m + 1);
        (m_isAssign[m] ? ay : uy2) << m_inertias[m];
    }
    m_inertiaLine->setData(mx, my, true);
    m_assignMarks->setData(ax, ay, true);
    m_updateMarks->setData(ux2, uy2, true);

    QString info = tr("%1 points (%2)").arg(count(n)).arg(m_space);
    if (m_total > n) info = tr("%1 of %2 points (%3)").arg(count(n)).arg(count(m_total)).arg(m_space);
    info += tr(" · start %1").arg(m_starts);
    if (!m_inertias.empty())
        info += tr(" · move %1 · inertia %2").arg(m_inertias.size()).arg(number(m_inertias.back()));
    if (!labels.empty() && n > kMaxMemberLines)
        info += tr(" · membership lines for %1 of the points").arg(kMaxMemberLines);
    m_info->setText(info);
    m_info->setToolTip(info);
    markDirty();
    if (QCustomPlot* p = plot()) {
        if (!interaction() || interaction()->following()) rescale();
        p->replot(QCustomPlot::rpQueuedReplot);
    }
}

void KMeansPanel::rescale() {
    if (m_points.size() > 0) {
        const VecF lo = m_points.rowwise().minCoeff(), hi = m_points.rowwise().maxCoeff();
        for (int r = 0; r < 2; ++r) {
            const double pad = 0.06 * std::max(1e-6f, hi(r) - lo(r));
            m_scatterRect->axis(r == 0 ? QCPAxis::atBottom : QCPAxis::atLeft)
                ->setRange(lo(r) - pad, hi(r) + pad);
        }
    }
    const double moves = double(std::max<size_t>(m_inertias.size(), 1));
    m_inertiaRect->axis(QCPAxis::atBottom)->setRange(0.5, moves + 0.5);
    if (!m_inertias.empty()) {
        const auto [lo, hi] = std::minmax_element(m_inertias.begin(), m_inertias.end());
        const double pad = 0.08 * std::max(*hi - *lo, 1e-9 * std::abs(*hi) + 1e-12);
        m_inertiaRect->axis(QCPAxis::atLeft)->setRange(*lo - pad, *hi + pad);
    }
}

int KMeansPanel::nearestCentroid(const QPointF& pixel, double maxPixels) const {
    if (!m_stepper) return -1;
    int best = -1;
    double bestD = maxPixels * maxPixels;
    for (int i = 0; i < m_stepper->k(); ++i) {
        const QPointF d = centroidPixel(i) - pixel;
        const double d2 = QPointF::dotProduct(d, d);
        if (d2 <= bestD) {
            bestD = d2;
            best = i;
        }
    }
    return best;
}

// A left press on a centroid grabs it (the plot does not pan), a move drags it with its
// membership lines, the release makes its position a new start.
bool KMeansPanel::eventFilter(QObject* watched, QEvent* e) {
    if (watched != plot() || !m_stepper) return Panel::eventFilter(watched, e);
    const auto type = e->type();
    if (type != QEvent::MouseButtonPress && type != QEvent::MouseMove &&
        type != QEvent::MouseButtonRelease)
        return Panel::eventFilter(watched, e);
    const auto* me = static_cast<QMouseEvent*>(e);
    const QPointF at = me->position();
    const QPointF data(m_scatterRect->axis(QCPAxis::atBottom)->pixelToCoord(at.x()),
                       m_scatterRect->axis(QCPAxis::atLeft)->pixelToCoord(at.y()));
    if (type == QEvent::MouseButtonPress && me->button() == Qt::LeftButton) {
        const int i = nearestCentroid(at, kGrabPixels);
        if (i < 0) return false;
        m_dragging = i;
        m_dragAt = data;
        plot()->setCursor(Qt::ClosedHandCursor);
        return true;
    }
    if (m_dragging < 0) return false;
    if (type == QEvent::MouseMove) {
        m_dragAt = data;
        showState();
        return true;
    }
    if (type == QEvent::MouseButtonRelease && me->button() == Qt::LeftButton) {
        plot()->unsetCursor();
        dragCentroid(m_dragging, data);
        return true;
    }
    return false;
}

}  // namespace h158::ui
