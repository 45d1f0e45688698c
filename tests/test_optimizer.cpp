// Tests of the optimizers (SGD with momentum, AdamW) and the learning-rate / weight-decay
// schedules: hand-computed answers, decay masking, determinism, convergence, schedule values.
#include <QTest>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

#include "core/optim/optimizer.h"
#include "core/base/errors.h"
#include "core/base/rng.h"
#include "core/optim/schedule.h"

using namespace h158;

namespace {

// Three tensors: w (2×2, decay), b (3, no decay), v (1×3, decay): 10 parameters, with the
// non-decay tensor between two decay ones.
ParamLayout smallLayout() {
    ParamLayout L;
    L.add("w", 2, 2, true, true);
    L.add("b", 3, 1, false, false);
    L.add("v", 1, 3, true, true);
    return L;
}

OptimConfig optimConfig(const char* kind) {
    OptimConfig c;
    c.kind = kind;
    c.lr = 0.1;
    c.momentum = 0.9;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    c.weight_decay = 0.01;
    return c;
}

bool isDecay(const ParamLayout& L, size_t i) {
    for (const auto& t : L.tensors())
        if (int64_t(i) >= t.offset && int64_t(i) < t.offset + t.size()) return t.decay;
    return false;
}

// Empty when |actual − expected| ≤ tol·|expected|, else the message.
QString relError(double actual, double expected, double tol, const char* what) {
    const double err = std::abs(actual - expected) / std::max(1e-30, std::abs(expected));
    if (err <= tol) return {};
    return QString("%1: got %2, expected %3 (relative error %4)")
        .arg(what)
        .arg(actual, 0, 'g', 12)
        .arg(expected, 0, 'g', 12)
        .arg(err);
}

#define CHECK_REL(actual, expected, tol, what)                            \
    do {                                                                  \
        const QString e_ = relError((actual), (expected), (tol), (what)); \
        QVERIFY2(e_.isEmpty(), qPrintable(e_));                           \
    } while (0)

// Runs two steps with θ = 2 everywhere, g₁ = 0.5, g₂ = −0.25, applying each step.
void twoSteps(Optimizer& opt, std::vector<float>& d1, std::vector<float>& d2) {
    const size_t n = 10;
    std::vector<float> theta(n, 2.0f), g1(n, 0.5f), g2(n, -0.25f);
    d1.assign(n, 0.0f);
    d2.assign(n, 0.0f);
    opt.propose(theta.data(), g1.data(), 0.1, 1.0, d1.data());
    for (size_t i = 0; i < n; ++i) theta[i] += d1[i];
    opt.propose(theta.data(), g2.data(), 0.1, 1.0, d2.data());
}

}  // namespace

class TestOptimizer : public QObject {
    Q_OBJECT

  private slots:
    // AdamW, lr 0.1, β = (0.9, 0.999), ε = 1e-8, λ = 0.01, θ = 2, g₁ = 0.5, g₂ = −0.25:
    // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, √v̂ = 0.5  ⇒ Δ = −0.1·(0.5/0.50000001 + 0.01·2)
    //         = −0.101999998 (decay) and −0.099999998 (no decay); θ becomes 1.898 / 1.9.
    // step 2: m = 0.9·0.05 − 0.025 = 0.02, m̂ = 0.02/0.19 = 0.1052631579;
    //         v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225, v̂ = 0.00031225/0.001999
    //         = 0.1562031016, √v̂ = 0.3952253807 ⇒ Adam part = 0.2663370329;
    //         Δ = −0.1·(0.2663370329 + 0.01·1.898) = −0.0285317033 (decay), −0.0266337033.
    void adamwTwoStepsKnownAnswer() {
        const ParamLayout L = smallLayout();
        auto opt = Optimizer::make(optimConfig("adamw"), L);
        QCOMPARE(opt->name(), std::string("adamw"));
        std::vector<float> d1, d2;
        twoSteps(*opt, d1, d2);
        for (size_t i = 0; i < 10; ++i) {
            const bool decay = isDecay(L, i);
            CHECK_REL(d1[i], decay ? -0.101999998 : -0.099999998, 1e-6, "adamw step 1");
            CHECK_REL(d2[i], decay ? -0.0285317033 : -0.0266337033, 1e-5, "adamw step 2");
        }
        QCOMPARE(opt->steps(), int64_t(2));
    }

    // SGD, lr 0.1, μ = 0.9, λ = 0.01, θ = 2, g₁ = 0.5, g₂ = −0.25:
    // step 1: v = 0.5, Δ = −0.05 − 0.1·0.01·2 = −0.052 (decay) / −0.05; θ → 1.948 / 1.95.
    // step 2: v = 0.45 − 0.25 = 0.2, Δ = −0.02 − 0.001·1.948 = −0.021948 (decay) / −0.02.
    void sgdTwoStepsKnownAnswer() {
        const ParamLayout L = smallLayout();
        auto opt = Optimizer::make(optimConfig("sgd"), L);
        QCOMPARE(opt->name(), std::string("sgd"));
        std::vector<float> d1, d2;
        twoSteps(*opt, d1, d2);
        for (size_t i = 0; i < 10; ++i) {
            const bool decay = isDecay(L, i);
            CHECK_REL(d1[i], decay ? -0.052 : -0.05, 1e-6, "sgd step 1");
            CHECK_REL(d2[i], decay ? -0.021948 : -0.02, 1e-5, "sgd step 2");
        }
    }

    // With a zero gradient the whole step is weight decay: −η λ s θ on decay tensors, exactly
    // zero elsewhere, and zero everywhere when the schedule's wd factor s is 0.
    void weightDecayOnlyOnDecayTensors_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<double>("wdScale");
        QTest::newRow("sgd, s=1") << "sgd" << 1.0;
        QTest::newRow("adamw, s=1") << "adamw" << 1.0;
        QTest::newRow("adamw, s=0.5") << "adamw" << 0.5;
        QTest::newRow("sgd, s=0") << "sgd" << 0.0;
        QTest::newRow("adamw, s=0") << "adamw" << 0.0;
    }
    void weightDecayOnlyOnDecayTensors() {
        QFETCH(QString, kind);
        QFETCH(double, wdScale);
        const ParamLayout L = smallLayout();
        auto opt = Optimizer::make(optimConfig(kind.toStdString().c_str()), L);
        std::vector<float> theta(10), g(10, 0.0f), d(10, 99.0f);
        for (size_t i = 0; i < 10; ++i) theta[i] = float(i) - 4.5f;
        opt->propose(theta.data(), g.data(), 0.1, wdScale, d.data());
        for (size_t i = 0; i < 10; ++i) {
            if (isDecay(L, i) && wdScale > 0)
                CHECK_REL(d[i], -0.1 * 0.01 * wdScale * theta[i], 1e-6, "decay step");
            else
                QCOMPARE(d[i], 0.0f);
        }
    }

    // Δ is proportional to η (the auxiliary network's hypergradient relies on it): two
    // optimizers fed the same gradients, one at 2η, give exactly twice the step.
    void stepProportionalToLr_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("sgd") << "sgd";
        QTest::newRow("adamw") << "adamw";
    }
    void stepProportionalToLr() {
        QFETCH(QString, kind);
        const ParamLayout L = smallLayout();
        auto a = Optimizer::make(optimConfig(kind.toStdString().c_str()), L);
        auto b = Optimizer::make(optimConfig(kind.toStdString().c_str()), L);
        Rng rng(3);
        std::vector<float> theta(10), g(10), da(10), db(10);
        for (int step = 0; step < 5; ++step) {
            for (size_t i = 0; i < 10; ++i) {
                theta[i] = float(rng.normal());
                g[i] = float(rng.normal());
            }
            a->propose(theta.data(), g.data(), 0.125, 1.0, da.data());
            b->propose(theta.data(), g.data(), 0.25, 1.0, db.data());
            for (size_t i = 0; i < 10; ++i) CHECK_REL(db[i], 2.0 * double(da[i]), 1e-6, "2η");
        }
    }

    // The same values at different buffer alignments give the same bits (the SIMD loops peel
    // differently for each offset).
    void independentOfAlignment_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("sgd") << "sgd";
        QTest::newRow("adamw") << "adamw";
    }
    void independentOfAlignment() {
        QFETCH(QString, kind);
        ParamLayout L;
        L.add("big", 67, 33, true, true);
        L.add("bias", 67, 1, false, false);
        const size_t n = size_t(L.size());
        Rng rng(11);
        std::vector<float> theta(n), g1(n), g2(n);
        for (size_t i = 0; i < n; ++i) {
            theta[i] = float(rng.normal());
            g1[i] = float(rng.normal());
            g2[i] = float(rng.normal(0, 1e-3));
        }
        std::vector<float> reference;
        for (size_t offset = 0; offset < 16; ++offset) {
            auto opt = Optimizer::make(optimConfig(kind.toStdString().c_str()), L);
            std::vector<float> buf(3 * (n + 16));
            float* p = buf.data() + offset;
            float* g = p + n + 16;
            float* d = g + n + 16;
            std::memcpy(p, theta.data(), n * sizeof(float));
            std::memcpy(g, g1.data(), n * sizeof(float));
            opt->propose(p, g, 0.01, 1.0, d);
            std::memcpy(g, g2.data(), n * sizeof(float));
            opt->propose(p, g, 0.01, 1.0, d);
            std::vector<float> out(d, d + n);
            const auto state = opt->state();
            out.insert(out.end(), state.begin(), state.end());
            if (offset == 0)
                reference = out;
            else
                QVERIFY2(std::memcmp(out.data(), reference.data(), out.size() * 4) == 0,
                         qPrintable(QString("offset %1 differs").arg(offset)));
        }
    }

    // state() holds the moments ([v] for sgd, [m, v] for adamw); setState() restores them so a
    // resumed optimizer continues bit for bit.
    void stateRoundTrip_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("moments");
        QTest::newRow("sgd") << "sgd" << 1;
        QTest::newRow("adamw") << "adamw" << 2;
    }
    void stateRoundTrip() {
        QFETCH(QString, kind);
        QFETCH(int, moments);
        const ParamLayout L = smallLayout();
        const OptimConfig cfg = optimConfig(kind.toStdString().c_str());
        auto a = Optimizer::make(cfg, L);
        Rng rng(5);
        std::vector<float> theta(10), g(10), da(10), db(10);
        auto fill = [&] {
            for (size_t i = 0; i < 10; ++i) {
                theta[i] = float(rng.normal());
                g[i] = float(rng.normal());
            }
        };
        fill();
        a->propose(theta.data(), g.data(), 0.1, 1.0, da.data());
        QCOMPARE(a->state().size(), size_t(moments * 10));
        auto b = Optimizer::make(cfg, L);
        b->setState(a->state(), a->steps());
        fill();
        a->propose(theta.data(), g.data(), 0.1, 1.0, da.data());
        b->propose(theta.data(), g.data(), 0.1, 1.0, db.data());
        QVERIFY(std::memcmp(da.data(), db.data(), 40) == 0);
        QVERIFY(a->state() == b->state());
        QVERIFY_THROWS_EXCEPTION(Error, b->setState(std::vector<float>(3), 1));
    }

    void rejectsBadInput() {
        const ParamLayout L = smallLayout();
        OptimConfig bad = optimConfig("adam");
        try {
            Optimizer::make(bad, L);
            QFAIL("unknown kind accepted");
        } catch (const ConfigError& e) {
            QVERIFY(std::string(e.what()).find("optim.kind") != std::string::npos);
        }
        bad = optimConfig("adamw");
        bad.beta2 = 1.0;
        QVERIFY_THROWS_EXCEPTION(ConfigError, Optimizer::make(bad, L));
        bad = optimConfig("sgd");
        bad.momentum = -0.1;
        QVERIFY_THROWS_EXCEPTION(ConfigError, Optimizer::make(bad, L));
        auto opt = Optimizer::make(optimConfig("adamw"), L);
        std::vector<float> p(10), g(10), d(10);
        QVERIFY_THROWS_EXCEPTION(Error, opt->propose(p.data(), g.data(), -1.0, 1.0, d.data()));
        QVERIFY_THROWS_EXCEPTION(Error, opt->propose(p.data(), g.data(), NAN, 1.0, d.data()));
        QVERIFY_THROWS_EXCEPTION(Error, opt->propose(p.data(), g.data(), 0.1, -1.0, d.data()));
    }

    // f(θ) = ½ Σ aᵢ (θᵢ − cᵢ)² with curvatures aᵢ ∈ [0.5, 5]: both optimizers drive the
    // distance to the minimum c down by orders of magnitude (AdamW on a cosine schedule, since
    // at a constant lr Adam hovers at a distance ~ lr around the minimum).
    void convergesOnQuadratic_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<double>("lr");
        QTest::addColumn<QString>("schedule");
        QTest::addColumn<double>("maxRelDistance");
        QTest::newRow("adamw cosine") << "adamw" << 0.05 << "cosine" << 1e-3;
        QTest::newRow("sgd momentum") << "sgd" << 0.05 << "constant" << 1e-5;
    }
    void convergesOnQuadratic() {
        QFETCH(QString, kind);
        QFETCH(double, lr);
        QFETCH(QString, schedule);
        QFETCH(double, maxRelDistance);
        ParamLayout L;
        L.add("x", 50, 1, false, false);
        OptimConfig cfg = optimConfig(kind.toStdString().c_str());
        cfg.weight_decay = 0;
        cfg.schedule = schedule.toStdString();
        cfg.min_lr_ratio = 0.0;
        auto opt = Optimizer::make(cfg, L);
        Rng rng(9);
        std::vector<double> a(50), c(50);
        for (size_t i = 0; i < 50; ++i) {
            a[i] = rng.uniform(0.5, 5.0);
            c[i] = rng.normal();
        }
        std::vector<float> theta(50, 0.0f), g(50), d(50);
        auto distance = [&] {
            double s = 0, n = 0;
            for (size_t i = 0; i < 50; ++i) {
                s += (theta[i] - c[i]) * (theta[i] - c[i]);
                n += c[i] * c[i];
            }
            return std::sqrt(s / n);
        };
        const int64_t steps = 1500;
        for (int64_t t = 0; t < steps; ++t) {
            for (size_t i = 0; i < 50; ++i) g[i] = float(a[i] * (theta[i] - c[i]));
            const ScheduleFactors f = scheduleAt(cfg, t, steps);
            opt->propose(theta.data(), g.data(), lr * f.lr, f.wd, d.data());
            for (size_t i = 0; i < 50; ++i) theta[i] += d[i];
        }
        const double dist = distance();
        QVERIFY2(dist < maxRelDistance, qPrintable(QString("relative distance %1").arg(dist)));
    }

    // Schedule values at known steps (formulas in schedule.h), ρ = min_lr_ratio = 0.1.
    void scheduleValues_data() {
        QTest::addColumn<QString>("schedule");
        QTest::addColumn<int>("warmup");
        QTest::addColumn<int>("total");
        QTest::addColumn<int>("step");
        QTest::addColumn<double>("lr");
        QTest::addColumn<double>("wd");
        QTest::newRow("constant first") << "constant" << 0 << 100 << 0 << 1.0 << 1.0;
        QTest::newRow("constant last") << "constant" << 0 << 100 << 99 << 1.0 << 1.0;
        QTest::newRow("constant warmup 0") << "constant" << 10 << 100 << 0 << 0.1 << 1.0;
        QTest::newRow("constant warmup 4") << "constant" << 10 << 100 << 4 << 0.5 << 1.0;
        QTest::newRow("constant warmup end") << "constant" << 10 << 100 << 9 << 1.0 << 1.0;
        QTest::newRow("cosine start") << "cosine" << 0 << 101 << 0 << 1.0 << 1.0;
        QTest::newRow("cosine middle") << "cosine" << 0 << 101 << 50 << 0.55 << 1.0;
        QTest::newRow("cosine end") << "cosine" << 0 << 101 << 100 << 0.1 << 1.0;
        QTest::newRow("cosine warmup 4") << "cosine" << 10 << 111 << 4 << 0.5 << 1.0;
        QTest::newRow("cosine peak") << "cosine" << 10 << 111 << 10 << 1.0 << 1.0;
        QTest::newRow("cosine w middle") << "cosine" << 10 << 111 << 60 << 0.55 << 1.0;
        QTest::newRow("cosine w end") << "cosine" << 10 << 111 << 110 << 0.1 << 1.0;
        // two_stage, T = 100: H = 50, stage-1 end e = 0.55, stage-2 floor 0.01.
        QTest::newRow("two_stage start") << "two_stage" << 0 << 100 << 0 << 1.0 << 1.0;
        QTest::newRow("two_stage quarter") << "two_stage" << 0 << 100 << 25 << 0.775 << 0.5;
        QTest::newRow("two_stage before drop") << "two_stage" << 0 << 100 << 49 << 0.559
                                               << 0.5 * (1 + std::cos(std::numbers::pi * 0.98));
        QTest::newRow("two_stage drop") << "two_stage" << 0 << 100 << 50 << 0.1 << 0.0;
        QTest::newRow("two_stage last") << "two_stage" << 0 << 100 << 99 << 0.01 << 0.0;
        QTest::newRow("two_stage warmup 0") << "two_stage" << 10 << 100 << 0 << 0.1 << 1.0;
        QTest::newRow("two_stage after warmup") << "two_stage" << 10 << 100 << 30 << 0.775
                                                << 0.5 * (1 + std::cos(std::numbers::pi * 0.6));
        QTest::newRow("two_stage odd T drop") << "two_stage" << 0 << 11 << 6 << 0.1 << 0.0;
    }
    void scheduleValues() {
        QFETCH(QString, schedule);
        QFETCH(int, warmup);
        QFETCH(int, total);
        QFETCH(int, step);
        QFETCH(double, lr);
        QFETCH(double, wd);
        OptimConfig cfg;
        cfg.schedule = schedule.toStdString();
        cfg.warmup = warmup;
        cfg.min_lr_ratio = 0.1;
        const ScheduleFactors f = scheduleAt(cfg, step, total);
        QVERIFY2(std::abs(f.lr - lr) < 1e-12, qPrintable(QString("lr %1").arg(f.lr, 0, 'g', 15)));
        QVERIFY2(std::abs(f.wd - wd) < 1e-12, qPrintable(QString("wd %1").arg(f.wd, 0, 'g', 15)));
    }

    // The two-stage shape over whole runs: lr non-increasing within each stage after warmup,
    // a drop at the midpoint to exactly ρ, weight decay positive before and zero after it.
    void twoStageShape_data() {
        QTest::addColumn<int>("total");
        QTest::addColumn<double>("rho");
        QTest::newRow("T=300 rho=0.1") << 300 << 0.1;
        QTest::newRow("T=301 rho=1/3") << 301 << 1.0 / 3.0;
        QTest::newRow("T=20 rho=0.5") << 20 << 0.5;
    }
    void twoStageShape() {
        QFETCH(int, total);
        QFETCH(double, rho);
        OptimConfig cfg;
        cfg.schedule = "two_stage";
        cfg.warmup = 3;
        cfg.min_lr_ratio = rho;
        const int half = (total + 1) / 2;
        double prev = 0;
        for (int s = 0; s < total; ++s) {
            const ScheduleFactors f = scheduleAt(cfg, s, total);
            if (s < half) {
                QVERIFY(f.wd > 0);
                if (s > cfg.warmup) QVERIFY(f.lr <= prev);
                if (s >= cfg.warmup) QVERIFY(f.lr > 0.5 * (1 + rho) - 1e-12);
            } else {
                QCOMPARE(f.wd, 0.0);
                if (s == half) {
                    QVERIFY(prev > f.lr);
                    QVERIFY(std::abs(f.lr - rho) < 1e-15);
                } else {
                    QVERIFY(f.lr <= prev);
                }
                QVERIFY(f.lr >= 0.1 * rho - 1e-15);
            }
            prev = f.lr;
        }
        QVERIFY(std::abs(prev - 0.1 * rho) < 1e-15);
    }

    void scheduleRejectsBadInput() {
        OptimConfig cfg;
        cfg.schedule = "linear";
        try {
            scheduleAt(cfg, 0, 10);
            QFAIL("unknown schedule accepted");
        } catch (const ConfigError& e) {
            QVERIFY(std::string(e.what()).find("optim.schedule") != std::string::npos);
        }
        cfg.schedule = "cosine";
        QVERIFY_THROWS_EXCEPTION(Error, scheduleAt(cfg, 10, 10));
        QVERIFY_THROWS_EXCEPTION(Error, scheduleAt(cfg, -1, 10));
        QVERIFY_THROWS_EXCEPTION(Error, scheduleAt(cfg, 0, 0));
        const ScheduleFactors one = scheduleAt(cfg, 0, 1);  // a one-step run is valid
        QCOMPARE(one.lr, 1.0);
    }
};

QTEST_APPLESS_MAIN(TestOptimizer)
#include "test_optimizer.moc"
