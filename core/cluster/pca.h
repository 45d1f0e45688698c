// A 2-D principal component projection of the columns of a matrix (F, N), for scatter plots of
// clustered data; the same map projects centroids or any other points of the same space.
#pragma once

#include "core/base/types.h"

namespace h158 {

struct Pca2d {
    MatF coords;      // (2, N) projections of the input columns
    VecF mean;        // (F) subtracted before projecting
    MatF components;  // (F, 2) unit principal directions, largest variance first
    Eigen::Vector2d variance = Eigen::Vector2d::Zero();  // variance along each component
    // (2, M) coordinates of the columns of y (F, M) under this map: components' (y - mean).
    MatF project(const MatF& y) const;
};

// Principal components from the eigenvectors of the F x F covariance
// (1/N) sum_j (x_j - m)(x_j - m)' (Eigen's SelfAdjointEigenSolver, in double). Each component's
// sign is fixed so that its entry of largest magnitude is positive (the lower feature index wins
// a tie), so the picture does not flip between runs. With F <= 2 the map is the identity: coords
// are the data, a row of zeros added when F = 1. Throws h158::Error on an empty or non-finite
// matrix.
Pca2d fitPca2d(const MatF& x);

}  // namespace h158
