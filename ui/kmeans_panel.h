// Mechanism panel "kmeans": K-Means one move at a time on the configuration's 2-D data (its
// inputs, or the PCA projection of its clustering features). Assign and Update are separate
// buttons, points are coloured by cluster with thin lines to their centroid, the inertia after
// each move is shown and plotted, and a student can drag a centroid to make a new start. Every
// number comes from the core's KMeansStepper (core/cluster/kmeans.h), never from this widget.
#pragma once

#include <QPointF>
#include <memory>
#include <optional>
#include <vector>

#include "core/base/types.h"
#include "core/cluster/kmeans.h"
#include "ui/panel.h"

class QCPAxisRect;
class QCPCurve;
class QCPGraph;
class QLabel;
class QPushButton;
class QSpinBox;

namespace h158::ui {

class KMeansPanel : public Panel {
    Q_OBJECT
  public:
    static constexpr int kMaxPoints = 3000;      // data points clustered and drawn (strided)
    static constexpr int kMaxMemberLines = 400;  // membership lines drawn (strided)
    static constexpr int kMaxK = 10;             // clusterColour's distinct hues

    explicit KMeansPanel(QWidget* parent = nullptr);

    // The panel clusters the data of the configuration on the form (the window calls setConfig
    // when the form changes) or of the run that starts. Only a change of the data resets the
    // student's state; the data are built when the panel is on screen (or a button asks).
    void beginRun(const Config& cfg, const QColor& runColour) override;
    void setConfig(const Config& cfg);

    // The moves, as the buttons make them (public for lessons and tests).
    void assign();
    void update();
    void runToConvergence();
    void newStart();
    // Moves centroid i to `to` (data coordinates) and makes that a new start, as a mouse drag on
    // the plot does (press on a centroid, move, release): the documented way for code to drag.
    void dragCentroid(int i, const QPointF& to);

    // What the panel shows, all from the core (empty before the data are built).
    const MatF& points() const { return m_points; }  // (2, N) the clustered points
    MatF centroids() const;                          // (2, k)
    std::vector<int> labels() const;                 // (N) empty until the first Assign
    const std::vector<double>& moveInertias() const { return m_inertias; }  // one per move
    QString explanation() const;
    int k() const;
    // The pixel (in plot coordinates) where centroid i is drawn, for a real mouse drag.
    QPointF centroidPixel(int i) const;
    QPushButton* assignButton() const { return m_assign; }
    QPushButton* updateButton() const { return m_update; }
    QPushButton* runButton() const { return m_run; }
    QPushButton* newStartButton() const { return m_newStart; }
    QSpinBox* kSpin() const { return m_kSpin; }

    // Asks its splitter row for room to read a scatter (the row's first split follows hints).
    QSize sizeHint() const override { return {560, 380}; }

  protected:
    void rescale() override;
    void showEvent(QShowEvent* e) override;
    bool eventFilter(QObject* watched, QEvent* e) override;

  private:
    bool ensureData();
    void startFrom(const MatF* centroids);
    void recordMove(const QString& what, const QString& sentence);
    void showState();
    void setExplanation(const QString& text);
    void updateButtons();
    void appendPath();
    int nearestCentroid(const QPointF& pixel, double maxPixels) const;

    QLabel* m_info;
    QLabel* m_explain = nullptr;
    QPushButton* m_assign;
    QPushButton* m_update;
    QPushButton* m_run;
    QPushButton* m_newStart;
    QSpinBox* m_kSpin;
    QCPAxisRect* m_scatterRect = nullptr;
    QCPAxisRect* m_inertiaRect = nullptr;
    QCPGraph* m_unassigned = nullptr;
    std::vector<QCPGraph*> m_clusterPoints;  // (kMaxK) points per cluster
    std::vector<QCPCurve*> m_memberLines;    // (kMaxK) point-to-centroid segments per cluster
    std::vector<QCPCurve*> m_trails;         // (kMaxK) each centroid's path since the start
    std::vector<QCPGraph*> m_centroidMarks;  // (kMaxK)
    QCPGraph* m_inertiaLine = nullptr;
    QCPGraph* m_assignMarks = nullptr;
    QCPGraph* m_updateMarks = nullptr;

    Config m_cfg;
    std::string m_dataKey;   // what the current points were built from
    bool m_stale = true;     // the configuration's data changed since the points were built
    QString m_dataError;     // why there are no points
    QString m_space;         // "inputs" or "PCA"
    int64_t m_total = 0;     // samples before thinning to kMaxPoints
    MatF m_points;           // (2, N)
    std::optional<KMeansStepper> m_stepper;
    uint64_t m_seed = 0;     // the next New start's k-means++ seed
    int m_starts = 0;
    std::vector<double> m_inertias;            // inertia after each move of this start
    std::vector<bool> m_isAssign;              // (moves) Assign or Update
    int64_t m_lastChanged = 0;                 // labels the last Assign changed
    std::vector<std::vector<QPointF>> m_path;  // (k) centroid positions since the start
    int m_dragging = -1;                       // centroid being dragged, -1 none
    QPointF m_dragAt;                          // its position while dragged (data coordinates)
};

}  // namespace h158::ui
