// Panel 4: the data clusters. A scatter of the data (2-D as is, else its PCA projection)
// coloured by cluster with the centroids marked, redrawn when a clusters snapshot arrives; the
// cluster sizes as bars with each cluster's loss (EMA) as a marker on a second axis; and the
// cluster each recent batch came from.
#pragma once

#include <deque>

#include "ui/panel.h"
#include "ui/state_view.h"

class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QCPLayer;
class QLabel;

namespace h158::ui {

class ClusterPanel : public Panel, public StateView {
    Q_OBJECT
  public:
    static constexpr int kRecentSteps = 120;

    explicit ClusterPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    int clusterCount() const { return m_k; }
    // The step of the clusters snapshot shown (-1: none yet) and its centroids, by cluster.
    int64_t snapshotStep() const { return m_snapshotStep; }
    QVector<QPointF> centroids() const;

  protected:
    void rescale() override;
    // New rows alone only move the recent-batches strip: replot its own buffered layer, not the
    // whole plot (the scatter of up to 4096 points is the expensive part).
    void redraw() override;

  private:
    void ensureClusters(int k);
    QCPGraph* recentGraph(int cluster);

    QLabel* m_info;
    QCPAxisRect* m_scatterRect = nullptr;
    QCPAxisRect* m_sizeRect = nullptr;
    QCPAxisRect* m_recentRect = nullptr;
    std::vector<QCPGraph*> m_points;     // one per cluster
    std::vector<QCPGraph*> m_centroids;  // one per cluster
    std::vector<QCPBars*> m_sizes;       // one per cluster (a bar set has one colour)
    QCPGraph* m_clusterLoss = nullptr;
    std::vector<QCPGraph*> m_recent;  // index 0 = mixed batches (cluster −1), then k + 1
    int m_k = 0;
    int64_t m_lastStep = 0;
    int64_t m_snapshotStep = -1;
    std::deque<std::pair<int64_t, int>> m_recentBatches;  // (step, cluster), the last kRecentSteps
    QCPLayer* m_recentLayer = nullptr;
    bool m_fullRedraw = true;
    bool m_enabled = true;
};

}  // namespace h158::ui
