// The Slurm pieces of sweeps (core/exp/slurm.h) without a cluster: array lists, the batch
// script, squeue's task lines (split and not yet split arrays) and the status rule. The real
// cluster test is scripts/slurm-test.sh.
#include <QtTest>

#include "core/base/errors.h"
#include "core/exp/slurm.h"

using namespace h158;

class TestSlurm : public QObject {
    Q_OBJECT
  private slots:
    void arraySpecs() {
        QCOMPARE(slurmArraySpec({}), std::string());
        QCOMPARE(slurmArraySpec({4}), std::string("4"));
        QCOMPARE(slurmArraySpec({1, 2, 3, 5, 7, 8}), std::string("1-3,5,7-8"));
        QCOMPARE(slurmArraySpec({8, 7, 1, 3, 2, 2, 5}), std::string("1-3,5,7-8"));
        QCOMPARE(slurmArraySpec({10, 12, 11, 13}), std::string("10-13"));
    }

    void batchScript() {
        SlurmJob job;
        job.name = "lr trust";
        job.cli = "/opt/hybrid158/bin/hybrid158-cli";
        job.sweepDir = "/shared/sweeps/it's";
        job.workDir = "/shared";
        job.tasks = {1, 2, 4};
        job.partition = "gpu-short";
        job.time = "1-00:30:00";
        job.cpusPerTask = 4;
        job.maxRunning = 2;
        const std::string s = slurmBatchScript(job);
        QVERIFY(s.rfind("#!/bin/bash\n", 0) == 0);
        for (const char* line :
             {"#SBATCH --job-name=lr_trust\n", "#SBATCH --array=1-2,4%2\n",
              "#SBATCH --output=/shared/sweeps/it's/slurm/%A_%a.out\n",
              "#SBATCH --cpus-per-task=4\n", "#SBATCH --partition=gpu-short\n",
              "#SBATCH --time=1-00:30:00\n", "cd '/shared'\n",
              "exec '/opt/hybrid158/bin/hybrid158-cli' sweep --out '/shared/sweeps/it'\\''s' "
              "--task \"$SLURM_ARRAY_TASK_ID\" --threads 4\n"})
            QVERIFY2(s.find(line) != std::string::npos, line);
        // no partition or time: the cluster's defaults, no lines for them
        job.partition.clear();
        job.time.clear();
        const std::string d = slurmBatchScript(job);
        QVERIFY(d.find("--partition") == std::string::npos);
        QVERIFY(d.find("--time") == std::string::npos);
    }

    void batchScriptRefusesBadInput() {
        SlurmJob job;
        job.cli = "/bin/cli";
        job.sweepDir = "/s";
        job.workDir = "/";
        QVERIFY_THROWS_EXCEPTION(ConfigError, slurmBatchScript(job));  // no tasks
        job.tasks = {1};
        job.sweepDir = "relative/dir";
        QVERIFY_THROWS_EXCEPTION(ConfigError, slurmBatchScript(job));
        job.sweepDir = "/s";
        job.partition = "debug\n#SBATCH --uid=0";
        try {
            slurmBatchScript(job);
            QFAIL("a partition with a newline was taken");
        } catch (const ConfigError& e) {
            QVERIFY2(std::string(e.what()).find("--partition") != std::string::npos, e.what());
        }
        job.partition.clear();
        job.time = "30 min";
        QVERIFY_THROWS_EXCEPTION(ConfigError, slurmBatchScript(job));
    }

    void squeueLines() {
        const std::string out =
            "  41_3 R\n41_[5-7,9%2] PD\n42_1 R\n41_4 CG\n\n99_[1-3] PD\n";
        const auto t = parseSqueueTasks(out, {"41", "42"});
        const std::map<int64_t, std::string> want = {
            {1, "R"}, {3, "R"}, {4, "CG"}, {5, "PD"}, {6, "PD"}, {7, "PD"}, {9, "PD"}};
        QCOMPARE(t, want);
        QVERIFY(parseSqueueTasks(out, {"7"}).empty());
        QVERIFY(parseSqueueTasks("", {"41"}).empty());
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseSqueueTasks("41_x R\n", {"41"}));
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseSqueueTasks("41_[3-1] PD\n", {"41"}));
        QVERIFY_THROWS_EXCEPTION(ConfigError, parseSqueueTasks("41_3\n", {"41"}));
    }

    void statusRule() {
        QCOMPARE(sweepTaskStatus("completed", true, "", true), std::string("completed"));
        QCOMPARE(sweepTaskStatus("diverged", true, "CG", true), std::string("diverged"));
        QCOMPARE(sweepTaskStatus("interrupted", true, "R", true), std::string("running"));
        QCOMPARE(sweepTaskStatus("pending", false, "PD", true), std::string("pending"));
        QCOMPARE(sweepTaskStatus("pending", false, "CF", true), std::string("running"));
        QCOMPARE(sweepTaskStatus("interrupted", true, "", true), std::string("interrupted"));
        QCOMPARE(sweepTaskStatus("pending", false, "", true), std::string("lost"));
        QCOMPARE(sweepTaskStatus("pending", false, "", false), std::string("pending"));
    }
};

QTEST_MAIN(TestSlurm)
#include "test_slurm.moc"
