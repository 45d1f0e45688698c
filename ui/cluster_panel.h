// Panel 4: the data clusters. A scatter of the data (2-D as is, else its PCA projection)
// coloured by cluster with the centroids marked, redrawn when a clusters snapshot arrives; the
// cluster sizes and per-cluster loss as bars; and the cluster each recent batch came from.
#pragma once

#include "ui/panel.h"

class QCPAxisRect;
class QCPBars;
class QCPGraph;
class QLabel;

namespace h158::ui {

class ClusterPanel : public Panel {
    Q_OBJECT
public:
    static constexpr int kRecentSteps = 120;

    explicit ClusterPanel(QWidget* parent = nullptr);

    void beginRun(const Config& cfg, const QColor& runColour) override;
    void appendRows(const std::vector<StepMetrics>& rows) override;
    void applySnapshot(const Snapshot& s) override;
    int clusterCount() const { return m_k; }

protected:
    void rescale() override;

private:
    void ensureClusters(int k);
    QCPGraph* recentGraph(int cluster);

    QLabel* m_info;
    QCPAxisRect* m_scatterRect = nullptr;
    QCPAxisRect* m_sizeRect = nullptr;
    QCPAxisRect* m_lossRect = nullptr;
    QCPAxisRect* m_recentRect = nullptr;
    std::vector<QCPGraph*> m_points;     // one per cluster
    std::vector<QCPGraph*> m_centroids;  // one per cluster
    std::vector<QCPBars*> m_sizes;       // one per cluster (a bar set has one colour)
    std::vector<QCPBars*> m_losses;
    std::vector<QCPGraph*> m_recent;     // index 0 = mixed batches (cluster −1), then k + 1
    int m_k = 0;
    int64_t m_lastStep = 0;
    bool m_enabled = true;
};

}  // namespace h158::ui
