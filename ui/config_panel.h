// The configuration form, generated from the core's schema: a group per section, a spin box
// (or a validated line edit for log-scale and very wide fields), combo box or check box per
// field, its doc as tooltip. Every edit goes through the core's own parsing and validation;
// an invalid value is marked inline with the core's message and makes the form invalid.
#pragma once

#include <QWidget>
#include <vector>

#include "core/config/config.h"

class QComboBox;
class QTimer;
class QFormLayout;
class QHBoxLayout;
class QLabel;
class QVBoxLayout;

namespace h158::ui {

class ConfigPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ConfigPanel(QWidget* parent = nullptr);

    // The configuration the form shows (fields with an unparsable value keep their last good one).
    const Config& config() const { return m_config; }
    void setConfig(const Config& cfg);
    bool isValid() const { return m_valid; }
    // Every current message, field messages first.
    QStringList errors() const;
    // The message shown under `key`'s editor, empty when fine.
    QString fieldError(const QString& key) const;
    // The editor widget of `key` (QSpinBox, QDoubleSpinBox, QLineEdit, QComboBox, QCheckBox).
    QWidget* editor(const QString& key) const;
    // Sets a field as if typed by the user (text as the CLI's --set takes it).
    void setFieldText(const QString& key, const QString& text);

    QString presetName() const;
    // Selects and loads a built-in preset; false for an unknown name.
    bool selectPreset(const QString& name);
    void resetToPreset();
    bool loadFile(const QString& path, QString* error = nullptr);
    bool saveFile(const QString& path, QString* error = nullptr) const;
    QString currentFile() const { return m_file; }

    // While a run runs (on): only the settings that can change during a run (FieldSpec::live)
    // stay editable, the others are greyed with the reason in their tooltip, and so are the
    // preset and file controls. An edit of a live setting keeps the form's value and is sent as
    // liveEdited once typing pauses (a check box or choice at once); an invalid one is marked and
    // not sent. Off: the form is the next run's configuration again.
    void setLiveMode(bool on);
    bool liveMode() const { return m_liveMode; }
    void commitLiveEdits();  // sends the pending live edits now

  public slots:
    void openFile();    // asks for a file
    void saveFileAs();  // asks for a file

  signals:
    void configChanged();
    void validityChanged(bool valid);
    // A live setting edited while in live mode (text as --set takes it).
    void liveEdited(const QString& key, const QString& text);

  private:
    struct Field {
        const FieldSpec* spec = nullptr;
        QWidget* editor = nullptr;
        QLabel* label = nullptr;
        QLabel* error = nullptr;
        QString parseError;  // the core's message when the typed text was refused
    };

    QHBoxLayout* buildPresetRow();
    QWidget* buildForm();
    void addFieldRow(Field& f, QFormLayout* form);
    QWidget* makeEditor(Field& f);
    void onEdited(size_t index, const QString& text);
    void fillEditor(const Field& f);
    void revalidate();
    void showFieldError(Field& f, const QString& message);
    void updateRelevance();

    Config m_config;
    std::vector<Field> m_fields;
    QComboBox* m_preset;
    QLabel* m_source;
    QLabel* m_generalErrors;
    QString m_file;
    QStringList m_otherErrors;
    bool m_valid = true;
    bool m_filling = false;
    bool m_liveMode = false;
    QList<QWidget*> m_fileControls;        // preset, reset, open: greyed in live mode
    QList<QPair<QString, QString>> m_livePending;  // live edits waiting for typing to pause
    QTimer* m_liveTimer = nullptr;
    QString m_sourceBeforeLive;
};

}  // namespace h158::ui
