#include "analysis/superposition.hpp"

#include "core/error.hpp"
#include "core/lapack.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace atomfp {

namespace {

constexpr double exhaustive_limit = 40320.0;  // 8!

struct Centred {
    std::vector<double> x;
    double centroid[3] = {0.0, 0.0, 0.0};
};

Centred centred(int64_t n, const double* positions) {
    Centred out;
    out.x.assign(positions, positions + 3 * n);
    for (int64_t a = 0; a < n; ++a)
        for (int k = 0; k < 3; ++k) out.centroid[k] += positions[3 * a + k] / static_cast<double>(n);
    for (int64_t a = 0; a < n; ++a)
        for (int k = 0; k < 3; ++k) out.x[3 * a + k] -= out.centroid[k];
    return out;
}

// The proper rotation R maximising sum_a x_a . (R y_{p(a)}): the quaternion of the largest eigenvalue
// of Horn's 4 x 4 matrix built from the correlation S_ij = sum_a y_i x_j.
void best_rotation(int64_t n, const double* x, const double* y, const std::vector<int64_t>& p, double* R) {
    double S[3][3] = {};
    for (int64_t a = 0; a < n; ++a)
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) S[i][j] += y[3 * p[a] + i] * x[3 * a + j];
    const double xx = S[0][0], xy = S[0][1], xz = S[0][2], yx = S[1][0], yy = S[1][1], yz = S[1][2], zx = S[2][0],
                 zy = S[2][1], zz = S[2][2];
    std::vector<double> N = {xx + yy + zz, yz - zy,      zx - xz,       xy - yx,   //
                             yz - zy,      xx - yy - zz, xy + yx,       zx + xz,   //
                             zx - xz,      xy + yx,      -xx + yy - zz, yz + zy,   //
                             xy - yx,      zx + xz,      yz + zy,       -xx - yy + zz};
    std::vector<double> eigenvalues;
    symmetric_eigen(4, N, eigenvalues);
    const double q0 = N[12], q1 = N[13], q2 = N[14], q3 = N[15];  // the largest eigenvalue's row
    R[0] = q0 * q0 + q1 * q1 - q2 * q2 - q3 * q3;
    R[1] = 2 * (q1 * q2 - q0 * q3);
    R[2] = 2 * (q1 * q3 + q0 * q2);
    R[3] = 2 * (q1 * q2 + q0 * q3);
    R[4] = q0 * q0 - q1 * q1 + q2 * q2 - q3 * q3;
    R[5] = 2 * (q2 * q3 - q0 * q1);
    R[6] = 2 * (q1 * q3 - q0 * q2);
    R[7] = 2 * (q2 * q3 + q0 * q1);
    R[8] = q0 * q0 - q1 * q1 - q2 * q2 + q3 * q3;
}

void rotate(const double* R, const double* v, double* out) {
    for (int i = 0; i < 3; ++i) out[i] = R[3 * i] * v[0] + R[3 * i + 1] * v[1] + R[3 * i + 2] * v[2];
}

Superposition evaluate(int64_t n, const double* x, const double* y, const std::vector<int64_t>& p) {
    Superposition s;
    s.permutation = p;
    best_rotation(n, x, y, p, s.rotation);
    double sum = 0.0;
    for (int64_t a = 0; a < n; ++a) {
        double r[3];
        rotate(s.rotation, y + 3 * p[a], r);
        double d2 = 0.0;
        for (int k = 0; k < 3; ++k) d2 += (r[k] - x[3 * a + k]) * (r[k] - x[3 * a + k]);
        sum += d2;
        s.max_deviation = std::max(s.max_deviation, std::sqrt(d2));
    }
    s.rmsd = std::sqrt(sum / static_cast<double>(n));
    return s;
}

// Labels a >= fixed grouped by species.
std::vector<std::vector<int64_t>> like_atom_groups(int64_t n, const int32_t* species, int64_t fixed) {
    std::map<int32_t, std::vector<int64_t>> by_species;
    for (int64_t a = fixed; a < n; ++a) by_species[species[a]].push_back(a);
    std::vector<std::vector<int64_t>> groups;
    for (auto& entry : by_species)
        if (entry.second.size() > 1) groups.push_back(std::move(entry.second));
    return groups;
}

Superposition exhaustive(int64_t n, const double* x, const double* y, std::vector<std::vector<int64_t>> groups, RelabelBy relabel_by) {
    auto better = [relabel_by](const Superposition& a, const Superposition& b) {
        return relabel_by == RelabelBy::rmsd ? a.rmsd < b.rmsd : a.max_deviation < b.max_deviation;
    };
    std::vector<int64_t> p(n);
    for (int64_t a = 0; a < n; ++a) p[a] = a;
    Superposition best = evaluate(n, x, y, p);
    // An odometer over the groups' permutations (each group starts sorted, its first permutation).
    while (true) {
        std::size_t g = 0;
        for (; g < groups.size(); ++g)
            if (std::next_permutation(groups[g].begin(), groups[g].end())) break;  // wraps back to sorted otherwise
        if (g == groups.size()) return best;
        std::vector<int64_t> labels(n);
        for (int64_t a = 0; a < n; ++a) labels[a] = a;
        for (const auto& group : groups) {
            std::vector<int64_t> sorted = group;
            std::sort(sorted.begin(), sorted.end());
            for (std::size_t k = 0; k < group.size(); ++k) labels[sorted[k]] = group[k];
        }
        Superposition candidate = evaluate(n, x, y, labels);
        if (better(candidate, best)) best = std::move(candidate);
    }
}

Superposition alternating(int64_t n, const double* x, const double* y, const std::vector<std::vector<int64_t>>& groups) {
    std::vector<int64_t> labels(n);
    for (int64_t a = 0; a < n; ++a) labels[a] = a;
    // The first assignment is made without rotation: a relabelled copy then starts from the right
    // labels whenever it is not rotated far.
    double R[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    Superposition best;
    best.rmsd = std::numeric_limits<double>::infinity();
    for (int iteration = 0; iteration < 100; ++iteration) {
        for (const auto& group : groups) {
            const int64_t m = static_cast<int64_t>(group.size());
            std::vector<double> cost(static_cast<std::size_t>(m) * m);
            for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < m; ++j) {
                    double r[3], d2 = 0.0;
                    rotate(R, y + 3 * group[j], r);
                    for (int k = 0; k < 3; ++k) d2 += (r[k] - x[3 * group[i] + k]) * (r[k] - x[3 * group[i] + k]);
                    cost[i * m + j] = d2;
                }
            const std::vector<int64_t> assignment = optimal_assignment(m, cost);
            for (int64_t i = 0; i < m; ++i) labels[group[i]] = group[assignment[i]];
        }
        if (labels == best.permutation) break;
        Superposition candidate = evaluate(n, x, y, labels);
        if (!(candidate.rmsd < best.rmsd)) break;
        best = std::move(candidate);
        std::copy(best.rotation, best.rotation + 9, R);
    }
    return best;
}

}  // namespace

Superposition superpose(int64_t n, const double* reference, const double* moving, const int32_t* species, int64_t fixed,
                        bool permute, RelabelBy relabel_by) {
    if (n < 1) fail(Status::invalid_argument, "superposition needs at least one atom");
    const Centred x = centred(n, reference), y = centred(n, moving);
    std::vector<std::vector<int64_t>> groups;
    if (permute) groups = like_atom_groups(n, species, std::max<int64_t>(fixed, 0));
    double count = 1.0;
    for (const auto& group : groups) count *= std::tgamma(static_cast<double>(group.size()) + 1.0);
    return count <= exhaustive_limit ? exhaustive(n, x.x.data(), y.x.data(), groups, relabel_by)
                                     : alternating(n, x.x.data(), y.x.data(), groups);
}

std::vector<double> superposed_positions(int64_t n, const double* reference, const double* moving) {
    if (n < 1) fail(Status::invalid_argument, "superposition needs at least one atom");
    const Centred x = centred(n, reference), y = centred(n, moving);
    std::vector<int64_t> identity(n);
    for (int64_t a = 0; a < n; ++a) identity[a] = a;
    double R[9];
    best_rotation(n, x.x.data(), y.x.data(), identity, R);
    std::vector<double> out(3 * n);
    for (int64_t a = 0; a < n; ++a) {
        rotate(R, y.x.data() + 3 * a, out.data() + 3 * a);
        for (int k = 0; k < 3; ++k) out[3 * a + k] += x.centroid[k];
    }
    return out;
}

std::vector<int64_t> optimal_assignment(int64_t n, const std::vector<double>& cost) {
    // Kuhn–Munkres with potentials, O(n^3); rows and columns are 1-based inside, 0 is a sentinel.
    const double infinity = std::numeric_limits<double>::infinity();
    std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
    std::vector<int64_t> row_of(n + 1, 0), way(n + 1, 0);
    for (int64_t i = 1; i <= n; ++i) {
        row_of[0] = i;
        int64_t column = 0;
        std::vector<double> slack(n + 1, infinity);
        std::vector<char> used(n + 1, 0);
        do {
            used[column] = 1;
            const int64_t row = row_of[column];
            double delta = infinity;
            int64_t next = 0;
            for (int64_t j = 1; j <= n; ++j) {
                if (used[j]) continue;
                const double reduced = cost[(row - 1) * n + (j - 1)] - u[row] - v[j];
                if (reduced < slack[j]) {
                    slack[j] = reduced;
                    way[j] = column;
                }
                if (slack[j] < delta) {
                    delta = slack[j];
                    next = j;
                }
            }
            for (int64_t j = 0; j <= n; ++j) {
                if (used[j]) {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    slack[j] -= delta;
                }
            }
            column = next;
        } while (row_of[column] != 0);
        do {
            const int64_t previous = way[column];
            row_of[column] = row_of[previous];
            column = previous;
        } while (column != 0);
    }
    std::vector<int64_t> assignment(n);
    for (int64_t j = 1; j <= n; ++j) assignment[row_of[j] - 1] = j - 1;
    return assignment;
}

}  // namespace atomfp
