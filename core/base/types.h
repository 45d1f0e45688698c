// The numeric types of the core and its one memory-layout rule.
//
// Layout: every matrix is Eigen column-major and a *sample is a column*. A batch of B inputs of
// width F is (F, B); a GPT activation for B sequences of T tokens and width C is (C, B*T), token
// (b, t) in column b*T + t (the same bytes as llm.c's row-major (B, T, C)). A weight W of a layer
// y = W x is (out, in). Flat parameter vectors hold each tensor column-major at its offset.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

namespace h158 {

template <typename T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using MapMat = Eigen::Map<Mat<T>>;
template <typename T>
using CMapMat = Eigen::Map<const Mat<T>>;
template <typename T>
using MapVec = Eigen::Map<Vec<T>>;
template <typename T>
using CMapVec = Eigen::Map<const Vec<T>>;

template <typename T>
using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
template <typename T>
using MapArr = Eigen::Map<Arr<T>>;
template <typename T>
using CMapArr = Eigen::Map<const Arr<T>>;

using MatF = Mat<float>;
using VecF = Vec<float>;
using MatD = Mat<double>;
using VecD = Vec<double>;

// A heap vector whose data starts on Eigen's widest alignment (64 bytes with AVX-512). Eigen's
// vectorized reductions (sums, dot products, small products) peel a scalar head up to the first
// aligned element, so the order of their additions, and the bits of the result, depend on where
// a buffer starts. Every buffer that numbers are reduced over is one of these (and Eigen's own
// matrices are aligned too), so a result depends on the values and the shapes alone: not on the
// heap's history (a second run in the same process gives the same bits as the first).
template <typename T>
using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;
using FloatBuffer = AlignedVector<float>;

}  // namespace h158
