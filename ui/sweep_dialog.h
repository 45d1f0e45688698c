// The Sweep dialog: the configuration in the form as the base, a grid of settings (a key from the
// schema and its values per axis) and a number of seeds, checked as the CLI checks them (every
// run validated, the run count shown) and started as `hybrid158-cli sweep` into a folder of the
// workspace. The window follows the process: each run that ends is listed in the Runs panel.
#pragma once

#include <QDialog>
#include <QStringList>

#include "core/config/config.h"
#include "core/exp/sweep.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;
class QDialogButtonBox;

namespace h158::ui {

class SweepDialog : public QDialog {
    Q_OBJECT
  public:
    // `base`: the form's configuration, `preset`: the preset it started from (the sweep records
    // the preset and the settings that differ from it).
    SweepDialog(const Config& base, const QString& preset, const QString& workspace,
                QWidget* parent = nullptr);

    // Axis `row` (added when row == axisCount()): a key and its values, "0.001, 0.003".
    void setAxis(int row, const QString& key, const QString& values);
    int axisCount() const;
    void setSeeds(int n);
    void setJobs(int n);
    void setName(const QString& name);

    // The sweep as given now, expanded and checked; empty error when it can start.
    bool check(Sweep* out, QString* error) const;
    // The CLI's arguments after `hybrid158-cli` (sweep --preset P --set ... --grid ... --out DIR).
    QStringList arguments() const;
    // The sweep's folder: workspace/name.
    QString outDir() const;

  private:
    SweepSpec spec() const;
    void update();

    Config m_base;
    QString m_preset, m_workspace;
    QTableWidget* m_axes;
    QSpinBox* m_seeds;
    QSpinBox* m_jobs;
    QLineEdit* m_name;
    QLabel* m_summary;
    QDialogButtonBox* m_buttons;
};

}  // namespace h158::ui
