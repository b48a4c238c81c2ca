#include "core/selection.hpp"

#include "core/blas.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace atomfp {

namespace {

std::vector<double> squared_norms(int64_t n, int64_t d, const double* X) {
    std::vector<double> out(n, 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) out[i] += X[i * d + k] * X[i * d + k];
    return out;
}

}  // namespace

std::vector<int64_t> cur_selection(int64_t n, int64_t d, const double* X, int64_t count) {
    count = std::min(count, n);
    std::vector<double> R(X, X + n * d), G(static_cast<std::size_t>(d) * d), v(d, 1.0 / std::sqrt(static_cast<double>(d))), Gv(d),
        scores(n);
    gemm(true, false, d, d, n, 1.0, R.data(), d, R.data(), d, 0.0, G.data(), d);
    std::vector<int64_t> selected;
    std::vector<char> taken(n, 0);
    double total = 0.0;
    for (int64_t k = 0; k < d; ++k) total += G[k * d + k];
    while (static_cast<int64_t>(selected.size()) < count) {
        // Stop once what remains is rounding (the updates of G leave ~1e-16 of the total).
        double trace = 0.0;
        for (int64_t k = 0; k < d; ++k) trace += G[k * d + k];
        if (!(trace > 1e-12 * total)) break;
        // Leading eigenvector of the Gram matrix by power iteration, warm-started from the last one.
        for (int iteration = 0; iteration < 200; ++iteration) {
            gemv(d, d, 1.0, G.data(), d, v.data(), 0.0, Gv.data());
            double norm = 0.0, change = 0.0;
            for (double x : Gv) norm += x * x;
            norm = std::sqrt(norm);
            if (!(norm > 1e-300)) break;
            for (int64_t k = 0; k < d; ++k) {
                const double next = Gv[k] / norm;
                change = std::max(change, std::abs(next - v[k]));
                v[k] = next;
            }
            if (change < 1e-10) break;
        }
        gemv(n, d, 1.0, R.data(), d, v.data(), 0.0, scores.data());
        int64_t best = -1;
        double best_score = -1.0;
        for (int64_t i = 0; i < n; ++i)
            if (!taken[i] && scores[i] * scores[i] > best_score) best_score = scores[i] * scores[i], best = i;
        double norm = 0.0;
        for (int64_t k = 0; k < d; ++k) norm += R[best * d + k] * R[best * d + k];
        if (best < 0 || !(norm > 1e-12 * total)) break;
        selected.push_back(best);
        taken[best] = 1;
        // Remove the chosen direction e from every row and from the Gram matrix: G <- P G P, P = I - e e^T.
        std::vector<double> e(R.begin() + best * d, R.begin() + (best + 1) * d);
        for (double& x : e) x /= std::sqrt(norm);
        for (int64_t i = 0; i < n; ++i) {
            double along = 0.0;
            for (int64_t k = 0; k < d; ++k) along += R[i * d + k] * e[k];
            for (int64_t k = 0; k < d; ++k) R[i * d + k] -= along * e[k];
        }
        std::vector<double> g(d);
        gemv(d, d, 1.0, G.data(), d, e.data(), 0.0, g.data());
        double ege = 0.0;
        for (int64_t k = 0; k < d; ++k) ege += e[k] * g[k];
        for (int64_t i = 0; i < d; ++i)
            for (int64_t j = 0; j < d; ++j) G[i * d + j] += -g[i] * e[j] - e[i] * g[j] + ege * e[i] * e[j];
    }
    return selected;
}

std::vector<int64_t> farthest_point_sampling(int64_t n, int64_t d, const double* X, int64_t count, int64_t first) {
    count = std::min(count, n);
    std::vector<int64_t> selected;
    if (count <= 0) return selected;
    // |x_i - y|^2 = |x_i|^2 + |y|^2 - 2 x_i . y. Every point belongs to the cluster of its nearest
    // pick so far. A new pick y can only come nearer to the points of cluster c if
    // |y - c| < 2 max_i |x_i - c| (triangle inequality), so most clusters are skipped once there
    // are many picks, and the pool is no longer read in full for every pick.
    std::vector<double> mean(d, 0.0), nearest(n, std::numeric_limits<double>::infinity()), dots(n);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < d; ++k) mean[k] += X[i * d + k] / static_cast<double>(n);
    const std::vector<double> norms = squared_norms(n, d, X);
    auto squared_distance = [&](int64_t i, const double* y, double y_norm) {
        return std::max(norms[i] + y_norm - 2.0 * dot(X + i * d, y, d), 0.0);
    };
    int64_t next = first;
    if (first < 0 || first >= n) {
        gemv(n, d, 1.0, X, d, mean.data(), 0.0, dots.data());
        const double mean_norm = dot(mean.data(), mean.data(), d);
        double farthest = -1.0;
        for (int64_t i = 0; i < n; ++i) {
            const double r = std::max(norms[i] + mean_norm - 2.0 * dots[i], 0.0);
            if (r > farthest) farthest = r, next = i;
        }
    }
    std::vector<std::vector<int64_t>> members;  // [pick]: the points nearest to it, increasing
    std::vector<double> radius;                 // [pick]: the largest distance of its members
    std::vector<int64_t> all(n);
    for (int64_t i = 0; i < n; ++i) all[i] = i;
    while (static_cast<int64_t>(selected.size()) < count) {
        const int64_t current = next;
        const double* y = X + current * d;
        const double y_norm = norms[current];
        std::vector<int64_t> joined;
        auto visit = [&](const std::vector<int64_t>& points, std::vector<int64_t>& stay) {
            for (int64_t i : points) {
                const double r = squared_distance(i, y, y_norm);
                if (r < nearest[i]) {
                    nearest[i] = r;
                    joined.push_back(i);
                } else {
                    stay.push_back(i);
                }
            }
        };
        if (selected.empty()) {
            std::vector<int64_t> none;
            visit(all, none);
        } else {
            for (std::size_t c = 0; c < selected.size(); ++c) {
                const double separation = std::sqrt(squared_distance(selected[c], y, y_norm));
                // The margin keeps rounding in the distances from skipping a point that would move.
                if (separation > 2.0 * radius[c] * (1.0 + 1e-9) + 1e-12) continue;
                std::vector<int64_t> stay;
                visit(members[c], stay);
                members[c] = std::move(stay);
                double largest = 0.0;
                for (int64_t i : members[c]) largest = std::max(largest, nearest[i]);
                radius[c] = std::sqrt(largest);
            }
        }
        std::sort(joined.begin(), joined.end());
        double largest = 0.0;
        for (int64_t i : joined) largest = std::max(largest, nearest[i]);
        selected.push_back(current);
        members.push_back(std::move(joined));
        radius.push_back(std::sqrt(largest));
        double farthest = -1.0;
        for (int64_t i = 0; i < n; ++i)
            if (nearest[i] > farthest) farthest = nearest[i], next = i;
    }
    return selected;
}

}  // namespace atomfp
