// The workbench's look: a light Fusion palette, readable fonts, and the fixed colour sets that
// keep a cluster, a class or a run the same colour in every panel.
#pragma once

#include <QColor>

class QApplication;
class QCustomPlot;
class QCPAxisRect;

namespace h158::ui {

void applyLightTheme(QApplication& app);

// Cluster k (data or parameter cluster) in every panel; cycles after 10.
QColor clusterColour(int k);
// The run colours: n-th of kRunColours (cycles), distinct from the cluster set's first hues.
inline constexpr int kRunColours = 12;
QColor runColour(int n);
// Class colours of the decision boundary (Playground-like orange / blue), more for multi-class.
QColor classColour(int c);

// Semantic series colours shared by the scalar panels.
namespace colours {
inline const QColor loss{31, 119, 180};
inline const QColor validation{214, 39, 40};
inline const QColor constraint{148, 103, 189};
inline const QColor radius{44, 160, 44};
inline const QColor stepNorm{255, 127, 14};
inline const QColor held{23, 190, 207};
inline const QColor quantError{31, 119, 180};
inline const QColor updateError{255, 127, 14};
inline const QColor levelNeg{214, 96, 77};
inline const QColor levelZero{186, 186, 186};
inline const QColor levelPos{67, 147, 195};
// Code flips by cause (code_flips.h): the weight crossed a threshold, or the scale moved the
// thresholds over it (Okabe-Ito black and orange).
inline const QColor flipWeight{0, 0, 0};
inline const QColor flipScale{230, 159, 0};
inline const QColor lr{31, 119, 180};
inline const QColor multiplier{148, 103, 189};
inline const QColor grid{228, 228, 228};
inline const QColor axis{120, 120, 120};
inline const QColor text{50, 50, 50};
// The frame a lesson page draws around the panels it talks about (Okabe-Ito reddish purple:
// none of the code, flip or series colours).
inline const QColor lessonHighlight{204, 121, 167};
}  // namespace colours

// Axis colours, fonts and grid of one axis rect (and the plot's background).
void styleAxisRect(QCPAxisRect* rect);
// Also makes every replot fit its tick counts to the room the axes have (fitTickCounts), and hides
// a legend inside an axis rect while it would cover most of it.
void stylePlot(QCustomPlot* plot);
// Sets each visible axis's tick count (never above what the panel asked for) so that its tick
// labels cannot touch ("150200250" never happens), from the size the layout just gave its axis
// rect, and remakes the ticks of a rect where a count changed. Called after every layout.
void fitTickCounts(QCustomPlot* plot);

}  // namespace h158::ui
