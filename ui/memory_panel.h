// The memory table (issue 4): the current model and 100M / 1B / 7B / 13B reference models in
// fp32, fp16, the ideal 1.58 bits per weight, and the bytes of hybrid158's packed .h158 file
// (5 trits per byte, scales, full-precision embeddings and head), as the core computes them.
#pragma once

#include <QWidget>

#include "core/config/config.h"

class QLabel;
class QTableWidget;

namespace h158::ui {

class MemoryPanel : public QWidget {
    Q_OBJECT
  public:
    explicit MemoryPanel(QWidget* parent = nullptr);

    // Recomputes the table for the model `cfg` builds (and the reference shapes).
    void setConfig(const Config& cfg);
    int rowCount() const;

  private:
    QTableWidget* m_table;
    QLabel* m_note;
    std::string m_key;  // the model-relevant part of the last config (skip recomputing)
};

}  // namespace h158::ui
