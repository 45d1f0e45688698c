// The configuration form: generated from the schema, refuses invalid values inline with the
// core's message (and the window's Run with it), and round-trips config files.
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <nlohmann/json.hpp>

#include "core/config/config.h"
#include "ui/config_panel.h"
#include "ui/main_window.h"

using h158::ui::ConfigPanel;

namespace {
QString dump(const h158::Config& c) {
    return QString::fromStdString(h158::toJson(c).dump());
}

// Types into a field's editor as a user would: select all, type, (for spin boxes) Enter.
void typeInto(QWidget* editor, const QString& text) {
    editor->setFocus();
    if (auto* line = qobject_cast<QLineEdit*>(editor)) {
        line->selectAll();
        QTest::keyClicks(line, text);
    } else if (auto* spin = qobject_cast<QAbstractSpinBox*>(editor)) {
        spin->selectAll();
        QTest::keyClicks(spin, text);
        QTest::keyClick(spin, Qt::Key_Enter);
    }
}
}  // namespace

class TestGuiConfigPanel : public QObject {
    Q_OBJECT
  private:
    QTemporaryDir m_tmp;

  private slots:
    void everyFieldHasAnEditorOfItsType() {
        ConfigPanel panel;
        for (const h158::FieldSpec& f : h158::configSchema()) {
            const QString key = QString::fromStdString(f.key);
            QWidget* ed = panel.editor(key);
            QVERIFY2(ed, qPrintable(key));
            QVERIFY2(ed->toolTip().contains(QString::fromStdString(f.doc).toHtmlEscaped()),
                     qPrintable(key));
            switch (f.type) {
                case h158::FieldType::Bool:
                    QVERIFY(qobject_cast<QCheckBox*>(ed));
                    break;
                case h158::FieldType::Choice: {
                    auto* combo = qobject_cast<QComboBox*>(ed);
                    QVERIFY2(combo, qPrintable(key));
                    QCOMPARE(combo->count(), int(f.choices.size()));
                    break;
                }
                case h158::FieldType::Int:
                    if (auto* spin = qobject_cast<QSpinBox*>(ed)) {
                        QCOMPARE(spin->minimum(), int(f.min));
                    } else {
                        QVERIFY2(qobject_cast<QLineEdit*>(ed), qPrintable(key));
                    }
                    break;
                case h158::FieldType::Double:
                    if (f.logScale)
                        QVERIFY2(qobject_cast<QLineEdit*>(ed), qPrintable(key));
                    else
                        QVERIFY2(qobject_cast<QDoubleSpinBox*>(ed), qPrintable(key));
                    break;
                default:
                    QVERIFY(qobject_cast<QLineEdit*>(ed));
                    break;
            }
        }
    }

    void invalidFieldDisablesRunAndShowsTheMessage() {
        h158::ui::MainWindow w(h158::ui::MainWindowOptions{m_tmp.path(), false, {}});
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        ConfigPanel* form = w.configPanel();
        QVERIFY(form->selectPreset("spirals"));
        QVERIFY(w.runAction()->isEnabled());
        QWidget* lr = form->editor("optim.lr");
        typeInto(lr, "-1");
        QVERIFY(!form->isValid());
        const QString msg = form->fieldError("optim.lr");
        QVERIFY2(msg.startsWith("optim.lr"), qPrintable(msg));
        // the message is on screen, under the field
        bool shown = false;
        for (QLabel* l : form->findChildren<QLabel*>())
            shown = shown || (l->isVisible() && l->text() == msg);
        QVERIFY(shown);
        QVERIFY(lr->property("invalid").toBool());
        QVERIFY(!w.runAction()->isEnabled());
        QVERIFY(!w.stepAction()->isEnabled());
        typeInto(lr, "0.02");
        QVERIFY(form->isValid());
        QVERIFY(form->fieldError("optim.lr").isEmpty());
        QCOMPARE(form->config().optim.lr, 0.02);
        QVERIFY(w.runAction()->isEnabled());
    }

    // Switching weight quantization off on seed-linear (per-cluster scales) needs no second
    // edit: the form stays valid and greys the settings that no longer matter.
    void switchingOffGreysWhatNoLongerMatters() {
        ConfigPanel form;
        QVERIFY(form.selectPreset("seed-linear"));
        auto* weights = qobject_cast<QComboBox*>(form.editor("quant.weights"));
        QVERIFY(weights);
        auto labelOf = [&](const char* name) -> QLabel* {
            for (QLabel* l : form.findChildren<QLabel*>())
                if (l->text() == name) return l;
            return nullptr;
        };
        QVERIFY(labelOf("granularity") && labelOf("param k"));
        QVERIFY(!labelOf("granularity")->styleSheet().contains("#a0a0a0"));
        weights->setCurrentIndex(weights->findText("none"));
        QCOMPARE(form.config().quant.weights, std::string("none"));
        QVERIFY2(form.isValid(), qPrintable(form.errors().join('\n')));
        QVERIFY(labelOf("granularity")->styleSheet().contains("#a0a0a0"));
        QVERIFY(labelOf("param k")->styleSheet().contains("#a0a0a0"));
        QVERIFY(!labelOf("weights")->styleSheet().contains("#a0a0a0"));
    }

    void textThatDoesNotParseIsInvalid() {
        ConfigPanel form;
        typeInto(form.editor("run.seed"), "abc");
        QVERIFY(!form.isValid());
        QVERIFY(form.fieldError("run.seed").startsWith("run.seed"));
        typeInto(form.editor("run.seed"), "12345678901");  // past 32 bits: a line edit
        QVERIFY(form.isValid());
        QCOMPARE(form.config().run.seed, int64_t(12345678901));
    }

    void crossFieldErrorsAreShownToo() {
        ConfigPanel form;
        form.setFieldText("model.kind", "gpt");
        form.setFieldText("data.kind", "text");
        form.setFieldText("model.d_model", "130");
        form.setFieldText("model.heads", "4");
        const auto coreSays = h158::validationErrors(form.config());
        QCOMPARE(form.isValid(), coreSays.empty());
        QCOMPARE(form.errors().size(), qsizetype(coreSays.size()));
        if (coreSays.empty()) QSKIP("the core accepts d_model=130 with 4 heads");
        QVERIFY(form.errors().first().startsWith("model."));
    }

    void loadingAFileFillsTheForm() {
        h158::Config c = h158::presetConfig("spirals");
        c.run.steps = 777;
        c.run.name = "from-file";
        c.optim.lr = 0.0123;
        c.quant.weights = "five_level";
        c.aux.enabled = false;
        c.data.noise = 0.25;
        const QString path = m_tmp.filePath("cfg.json");
        h158::saveConfigFile(c, path.toStdString());

        ConfigPanel form;
        QVERIFY(form.selectPreset("seed-linear"));
        QString error;
        QVERIFY2(form.loadFile(path, &error), qPrintable(error));
        QCOMPARE(qobject_cast<QSpinBox*>(form.editor("run.steps"))->value(), 777);
        QCOMPARE(qobject_cast<QLineEdit*>(form.editor("run.name"))->text(), QString("from-file"));
        QCOMPARE(qobject_cast<QLineEdit*>(form.editor("optim.lr"))->text(), QString("0.0123"));
        QCOMPARE(qobject_cast<QComboBox*>(form.editor("quant.weights"))->currentText(),
                 QString("five_level"));
        QCOMPARE(qobject_cast<QCheckBox*>(form.editor("aux.enabled"))->isChecked(), false);
        QCOMPARE(qobject_cast<QDoubleSpinBox*>(form.editor("data.noise"))->value(), 0.25);
        QCOMPARE(qobject_cast<QComboBox*>(form.editor("data.kind"))->currentText(),
                 QString("spirals"));
        QCOMPARE(dump(form.config()), dump(c));
        QVERIFY(form.isValid());
    }

    void savingWritesWhatTheCliReads() {
        ConfigPanel form;
        QVERIFY(form.selectPreset("moons"));
        form.setFieldText("optim.lr", "3e-4");
        form.setFieldText("trust.enabled", "false");
        const QString path = m_tmp.filePath("saved.json");
        QVERIFY(form.saveFile(path));
        const h158::Config back = h158::loadConfigFile(path.toStdString());
        QCOMPARE(back.optim.lr, 3e-4);
        QCOMPARE(back.trust.enabled, false);
        QCOMPARE(dump(back), dump(form.config()));
    }

    void aBadFileIsRefusedWithItsName() {
        const QString path = m_tmp.filePath("bad.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("{\"optim\": {\"lrr\": 0.1}}");
        f.close();
        ConfigPanel form;
        QVERIFY(form.selectPreset("spirals"));
        QString error;
        QVERIFY(!form.loadFile(path, &error));
        QVERIFY2(error.contains("lrr"), qPrintable(error));
        QCOMPARE(form.config().run.name, std::string("spirals"));  // the form is unchanged
    }

    void resetToPresetUndoesEdits() {
        ConfigPanel form;
        QVERIFY(form.selectPreset("seed-linear"));
        form.setFieldText("run.steps", "5");
        form.setFieldText("optim.lr", "-3");
        QVERIFY(!form.isValid());
        form.resetToPreset();
        QVERIFY(form.isValid());
        QCOMPARE(dump(form.config()), dump(h158::presetConfig("seed-linear")));
    }
};

QTEST_MAIN(TestGuiConfigPanel)
#include "test_gui_config_panel.moc"
