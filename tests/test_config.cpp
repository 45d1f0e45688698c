// Config: schema completeness, validation messages naming the field, JSON round trip,
// unknown keys with suggestions, --set parsing and the built-in presets.
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/config/config.h"
#include "core/base/errors.h"

using namespace h158;

class TestConfig : public QObject {
    Q_OBJECT

    static QString errorOf(const std::function<void()>& f) {
        try {
            f();
        } catch (const ConfigError& e) {
            return QString::fromStdString(e.what());
        }
        return {};
    }

  private slots:
    // Switching a component off never needs a second edit: the settings it made relevant are
    // ignored (seed-linear has per-cluster scales, quant.granularity=cluster).
    void switchingOffNeedsNoSecondEdit() {
        for (const char* off : {"quant.weights=none", "trust.enabled=false", "aux.enabled=false",
                                "cluster.data_k=0"}) {
            Config c = presetConfig("seed-linear");
            applySetting(c, off);
            QVERIFY2(validationErrors(c).empty(), off);
        }
        Config c = presetConfig("seed-linear");
        QCOMPARE(c.quant.granularity, std::string("cluster"));
    }
    void schemaDescribesEveryField() {
        const auto& schema = configSchema();
        QVERIFY(schema.size() > 40);
        for (const auto& f : schema) {
            QVERIFY2(!f.doc.empty(), f.key.c_str());
            QVERIFY2(f.check(f.defaultValue()).empty(), f.key.c_str());
            if (f.type == FieldType::Choice) QVERIFY(!f.choices.empty());
        }
        for (const char* key :
             {"quant.weights", "cluster.data_k", "aux.enabled", "trust.enabled", "optim.lr",
              "run.steps", "run.seed", "run.batch_size", "data.text_file"})
            QVERIFY2(findField(key) != nullptr, key);
        QCOMPARE(findField("quant.weights")->choices,
                 (std::vector<std::string>{"none", "ternary", "five_level", "int8", "adaptive"}));
    }

    void validationNamesTheField_data() {
        QTest::addColumn<QString>("assignment");
        QTest::addColumn<QString>("message");
        QTest::newRow("negative lr") << "optim.lr=-1"
                                     << "optim.lr must be > 0 and <= 100, got -1";
        QTest::newRow("zero steps") << "run.steps=0"
                                    << "run.steps must be >= 1";
        QTest::newRow("steps past the ceiling") << "run.steps=100000000"
                                                << "run.steps must be >= 1 and <= 10000000";
        QTest::newRow("bad choice") << "quant.weights=ternery"
                                    << "did you mean 'ternary'?";
        QTest::newRow("not a number") << "optim.lr=fast"
                                      << "optim.lr must be a number, got 'fast'";
        QTest::newRow("not a bool") << "aux.enabled=maybe"
                                    << "aux.enabled must be true or false";
        QTest::newRow("nan") << "optim.lr=nan"
                             << "optim.lr must be a finite number";
        QTest::newRow("unknown key") << "optim.learning_rate=1"
                                     << "unknown key 'optim.learning_rate'";
        QTest::newRow("typo suggestion") << "optim.l=1"
                                         << "did you mean 'optim.lr'?";
        QTest::newRow("not integer") << "run.steps=2.5"
                                     << "run.steps must be an integer";
    }
    void validationNamesTheField() {
        QFETCH(QString, assignment);
        QFETCH(QString, message);
        Config c;
        const QString err = errorOf([&] { applySetting(c, assignment.toStdString()); });
        QVERIFY2(err.contains(message), qPrintable(err));
        QVERIFY(toJson(c) == toJson(Config{}));  // a refused setting changes nothing
    }

    void crossFieldValidation() {
        Config c = presetConfig("gpt-s");
        c.model.heads = 5;
        QVERIFY(errorOf([&] { validate(c); }).startsWith("model.heads must divide model.d_model"));
        Config d;
        d.model.kind = "gpt";
        QVERIFY(errorOf([&] { validate(d); }).startsWith("data.kind must be 'text'"));
        Config e;
        e.data.kind = "csv";
        QVERIFY(errorOf([&] { validate(e); }).startsWith("data.csv_file"));
    }

    void jsonRoundTrip() {
        Config c = presetConfig("spirals");
        c.optim.lr = 0.1 + 0.2;  // a double that needs all 17 digits
        c.data.csv_target = "y \"quoted\"";
        const Config back = fromJson(nlohmann::json::parse(toJson(c).dump()));
        QVERIFY(toJson(back) == toJson(c));
        QCOMPARE(back.optim.lr, c.optim.lr);
    }

    void fileRoundTripAndErrors() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/c.json").toStdString();
        Config c = presetConfig("seed-linear");
        c.run.steps = 1234;
        saveConfigFile(c, path);
        QCOMPARE(loadConfigFile(path).run.steps, int64_t(1234));

        const std::string bad = (dir.path() + "/bad.json").toStdString();
        {
            std::ofstream o(bad);
            o << "{\n  \"run\": {\"steps\": 10,}\n}\n";
        }
        try {
            loadConfigFile(bad);
            QFAIL("malformed JSON accepted");
        } catch (const FileError& e) {
            QVERIFY2(QString(e.what()).contains(QString::fromStdString(bad + ":2:")), e.what());
        }
        try {
            loadConfigFile(dir.path().toStdString() + "/missing.json");
            QFAIL("missing file accepted");
        } catch (const FileError& e) {
            QVERIFY(QString(e.what()).contains("missing.json"));
        }
        const std::string unknown = (dir.path() + "/unknown.json").toStdString();
        {
            std::ofstream o(unknown);
            o << R"({"optim": {"lr": 0.1}, "trsut": {}})";
        }
        const QString err = errorOf([&] { loadConfigFile(unknown); });
        QVERIFY2(err.contains("unknown key 'trsut'") && err.contains("did you mean 'trust'"),
                 qPrintable(err));
    }

    // What fuzz/fuzz_config found (fuzz/corpus/config/crash-number-overflow.txt): a number past
    // double's range made loadConfigFile throw nlohmann's out_of_range instead of a FileError.
    void numberOutOfRangeIsAFileError() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/huge.json").toStdString();
        {
            std::ofstream o(path);
            o << "{\"model\": {\"hidden\": 8}, \"optim\": {\"lr\": 3e740991}}\n";
        }
        try {
            loadConfigFile(path);
            QFAIL("a number out of range accepted");
        } catch (const FileError& e) {
            const QString msg = e.what();
            QVERIFY2(msg.startsWith(QString::fromStdString(path + ": malformed JSON")) &&
                         msg.contains("3e740991"),
                     e.what());
        }
    }

    void presetsAreValid() {
        const auto list = presetList();
        QStringList names;
        for (const auto& p : list) {
            names << QString::fromStdString(p.name);
            QVERIFY(!p.summary.empty());
            validate(presetConfig(p.name));
        }
        for (const char* n : {"seed-linear", "spirals", "gpt-s", "gpt-m"})
            QVERIFY(names.contains(n));
        const Config s = presetConfig("gpt-s");
        QCOMPARE(s.model.layers, int64_t(4));
        QCOMPARE(s.model.d_model, int64_t(128));
        QCOMPARE(s.model.heads, int64_t(4));
        QCOMPARE(s.model.context, int64_t(128));
        QCOMPARE(s.run.batch_size, int64_t(16));
        const Config m = presetConfig("gpt-m");
        QCOMPARE(m.model.layers, int64_t(6));
        QCOMPARE(m.model.d_model, int64_t(256));
        QCOMPARE(m.model.heads, int64_t(8));
        QCOMPARE(m.model.context, int64_t(256));
        QCOMPARE(m.run.batch_size, int64_t(8));
        const Config seed = presetConfig("seed-linear");
        QVERIFY(seed.quant.weights == "ternary" && seed.cluster.data_k > 0 && seed.aux.enabled &&
                seed.trust.enabled);
        QVERIFY(errorOf([] { presetConfig("nope"); }).contains("unknown preset 'nope'"));
    }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "test_config.moc"
