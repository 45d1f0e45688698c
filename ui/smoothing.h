// TensorBoard's scalar smoothing: an exponential moving average debiased like Adam's moments,
// so the first points are not pulled towards zero. weight in [0, 1): 0 = raw values.
//   last_t = w·last_{t−1} + (1 − w)·v_t,   smoothed_t = last_t / (1 − w^t)
#pragma once

#include <cmath>
#include <cstdint>

namespace h158::ui {

class DebiasedEma {
  public:
    explicit DebiasedEma(double weight = 0.6) : m_weight(weight) {}
    // Non-finite values pass through unsmoothed and do not enter the average.
    double add(double v) {
        if (!std::isfinite(v)) return v;
        m_last = m_last * m_weight + (1.0 - m_weight) * v;
        ++m_count;
        const double debias = m_weight == 1.0 ? 1.0 : 1.0 - std::pow(m_weight, double(m_count));
        return m_last / debias;
    }
    void reset(double weight) {
        m_weight = weight;
        m_last = 0;
        m_count = 0;
    }
    double weight() const { return m_weight; }

  private:
    double m_weight;
    double m_last = 0;
    int64_t m_count = 0;
};

}  // namespace h158::ui
