#include "analysis/feature_space.hpp"

#include "core/blas.hpp"
#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "core/parallel.hpp"
#include "core/lapack.hpp"
#include "core/selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace atomfp {

namespace {

constexpr double candidate_cutoffs[] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12};
// "No regularisation": the pseudo-inverse's usual rank threshold.
constexpr double machine_cutoff = 1e-14;

int to_int(int64_t n, const char* what) {
    if (n > 2147483647) fail(Status::invalid_argument, what, " has ", n, " entries, more than LAPACK's int can index");
    return static_cast<int>(n);
}

// C = A B (row-major, plain sizes)
FeatureMatrix multiply(const FeatureMatrix& a, const FeatureMatrix& b, bool transpose_a = false) {
    const int64_t m = transpose_a ? a.cols : a.rows, k = transpose_a ? a.rows : a.cols;
    FeatureMatrix c(m, b.cols);
    if (m == 0 || b.cols == 0 || k == 0) return c;
    gemm(transpose_a, false, m, b.cols, k, 1.0, a.values.data(), a.cols, b.values.data(), b.cols, 0.0, c.values.data(),
         c.cols);
    return c;
}

double squared_difference(const FeatureMatrix& a, const FeatureMatrix& b) {
    double sum = 0;
    for (size_t k = 0; k < a.values.size(); ++k) sum += (a.values[k] - b.values[k]) * (a.values[k] - b.values[k]);
    return sum;
}

struct Svd {
    std::vector<double> u, s, vt;
    int k = 0;
};

Svd svd(const FeatureMatrix& x) {
    Svd result;
    singular_value_decomposition(to_int(x.rows, "a feature matrix"), to_int(x.cols, "a feature matrix"), x.values,
                                 result.u, result.s, result.vt);
    result.k = static_cast<int>(result.s.size());
    return result;
}

int kept_components(const std::vector<double>& s, double relative_cutoff) {
    if (s.empty() || s[0] <= 0) return 0;
    const double threshold = std::max(relative_cutoff, machine_cutoff) * s[0];
    int r = 0;
    while (r < static_cast<int>(s.size()) && s[r] > threshold) ++r;
    return r;
}

// Errors |y_other - x_other P_r|^2 of the fits on (x, y) truncated to r = 0..k components.
std::vector<double> truncation_errors(const FeatureMatrix& x, const FeatureMatrix& y, const FeatureMatrix& x_other,
                                      const FeatureMatrix& y_other, std::vector<double>& singular_values) {
    const Svd d = svd(x);
    singular_values = d.s;
    const int64_t m = x.cols, mp = y.cols, k = d.k;
    // z = U^T y [k][m'], t = x_other V [n_other][k]
    FeatureMatrix u(x.rows, k), vt(k, m);
    u.values = d.u;
    vt.values = d.vt;
    const FeatureMatrix z = multiply(u, y, true);
    FeatureMatrix t(x_other.rows, k);
    if (x_other.rows > 0 && k > 0) {
        gemm(false, true, x_other.rows, k, m, 1.0, x_other.values.data(), m, vt.values.data(), m, 0.0, t.values.data(), k);
    }
    FeatureMatrix prediction(x_other.rows, mp);
    std::vector<double> errors;
    errors.push_back(squared_difference(y_other, prediction));
    for (int64_t r = 0; r < k; ++r) {
        if (d.s[r] <= 0) break;
        for (int64_t i = 0; i < x_other.rows; ++i) {
            const double scale = t(i, r) / d.s[r];
            for (int64_t j = 0; j < mp; ++j) prediction(i, j) += scale * z(r, j);
        }
        errors.push_back(squared_difference(y_other, prediction));
    }
    return errors;
}

void require_same_samples(const FeatureMatrix& f, const FeatureMatrix& f_prime) {
    if (f.rows != f_prime.rows) {
        fail(Status::invalid_argument, "the two feature matrices describe different numbers of samples (", f.rows, " and ",
             f_prime.rows, ")");
    }
    if (f.rows < 4) {
        fail(Status::invalid_argument, "a train/test split with an inner cross-validation needs at least 4 samples, got ",
             f.rows);
    }
}

double root_mean_square(double squared_sum, int64_t n) { return n > 0 ? std::sqrt(squared_sum / n) : 0.0; }

// Projects the kernel (or centred distance) rows onto the eigenvectors of the reference block
// carrying `variance_kept` of its trace: features = rows U Lambda^{-1/2}.
FeatureMatrix project_on_eigenvectors(const FeatureMatrix& rows, std::vector<double> reference_block, int64_t r,
                                      double variance_kept) {
    if (!(variance_kept > 0 && variance_kept <= 1)) {
        fail(Status::invalid_argument, "the variance to keep must be in (0, 1], got ", variance_kept);
    }
    std::vector<double> eigenvalues;
    symmetric_eigen(to_int(r, "the reference set"), reference_block, eigenvalues);
    double positive = 0;
    for (double e : eigenvalues) positive += std::max(e, 0.0);
    if (!(positive > 0)) fail(Status::invalid_argument, "the kernel matrix of the reference samples has no positive eigenvalue");
    std::vector<int64_t> kept;
    double sum = 0;
    for (int64_t k = r - 1; k >= 0 && sum < variance_kept * positive * (1 - 1e-12); --k) {
        if (eigenvalues[k] <= 0) break;
        kept.push_back(k);
        sum += eigenvalues[k];
    }
    FeatureMatrix w(r, static_cast<int64_t>(kept.size()));
    for (size_t c = 0; c < kept.size(); ++c) {
        const double scale = 1.0 / std::sqrt(eigenvalues[kept[c]]);
        for (int64_t i = 0; i < r; ++i) w(i, static_cast<int64_t>(c)) = reference_block[kept[c] * r + i] * scale;
    }
    return multiply(rows, w);
}

// Doubly centres kernel-like values against the reference set: rows (n x r) hold k(x_i, ref_j) and
// the reference rows among them the reference block. k_c(x, r_j) = k(x, r_j) - mean_l k(x, r_l)
// - mean_l k(r_j, r_l) + mean_jl k(r_j, r_l): kernel PCA's centring in feature space, which for
// k = -d^2 / 2 is classical scaling.
FeatureMatrix centred_against_reference(const FeatureMatrix& rows, const std::vector<int64_t>& reference) {
    const int64_t r = static_cast<int64_t>(reference.size());
    std::vector<double> reference_mean(r, 0.0);
    double grand = 0;
    for (int64_t a = 0; a < r; ++a) {
        for (int64_t b = 0; b < r; ++b) reference_mean[a] += rows(reference[a], b) / r;
        grand += reference_mean[a] / r;
    }
    FeatureMatrix centred(rows.rows, r);
    for (int64_t i = 0; i < rows.rows; ++i) {
        double row_mean = 0;
        for (int64_t j = 0; j < r; ++j) row_mean += rows(i, j) / r;
        for (int64_t j = 0; j < r; ++j) centred(i, j) = rows(i, j) - row_mean - reference_mean[j] + grand;
    }
    return centred;
}

// The symmetrised reference block of centred rows.
std::vector<double> reference_block(const FeatureMatrix& centred, const std::vector<int64_t>& reference) {
    const int64_t r = static_cast<int64_t>(reference.size());
    std::vector<double> block(static_cast<size_t>(r * r));
    for (int64_t a = 0; a < r; ++a)
        for (int64_t b = 0; b < r; ++b) block[a * r + b] = 0.5 * (centred(reference[a], b) + centred(reference[b], a));
    return block;
}

}  // namespace

FeatureMatrix standardized(const FeatureMatrix& x, const char* name) {
    if (x.rows < 2) fail(Status::invalid_argument, name, ": standardising needs at least 2 samples, got ", x.rows);
    if (x.cols < 1) fail(Status::invalid_argument, name, ": no features");
    FeatureMatrix result = x;
    double total = 0;
    for (int64_t j = 0; j < x.cols; ++j) {
        double mean = 0;
        for (int64_t i = 0; i < x.rows; ++i) {
            if (!std::isfinite(x(i, j))) fail(Status::invalid_argument, name, ": sample ", i, " feature ", j, " is ", x(i, j));
            mean += x(i, j);
        }
        mean /= x.rows;
        for (int64_t i = 0; i < x.rows; ++i) {
            result(i, j) -= mean;
            total += result(i, j) * result(i, j);
        }
    }
    if (!(total > 1e-300)) fail(Status::invalid_argument, name, ": every feature is constant over the samples");
    const double scale = 1.0 / std::sqrt(total / x.rows);
    for (double& v : result.values) v *= scale;
    return result;
}

Split two_fold_split(int64_t n_samples, uint64_t seed) {
    std::vector<int64_t> order(static_cast<size_t>(n_samples));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 generator(seed);
    for (int64_t i = n_samples - 1; i > 0; --i) {
        std::uniform_int_distribution<int64_t> pick(0, i);
        std::swap(order[i], order[pick(generator)]);
    }
    Split split;
    const int64_t n_train = (n_samples + 1) / 2;
    split.train.assign(order.begin(), order.begin() + n_train);
    split.test.assign(order.begin() + n_train, order.end());
    std::sort(split.train.begin(), split.train.end());
    std::sort(split.test.begin(), split.test.end());
    return split;
}

FeatureMatrix select_rows(const FeatureMatrix& x, const std::vector<int64_t>& rows) {
    FeatureMatrix result(static_cast<int64_t>(rows.size()), x.cols);
    for (size_t r = 0; r < rows.size(); ++r)
        std::copy_n(&x.values[rows[r] * x.cols], x.cols, &result.values[r * x.cols]);
    return result;
}

FeatureMatrix select_columns(const FeatureMatrix& x, const std::vector<int64_t>& columns) {
    FeatureMatrix result(x.rows, static_cast<int64_t>(columns.size()));
    for (int64_t i = 0; i < x.rows; ++i)
        for (size_t c = 0; c < columns.size(); ++c) result(i, static_cast<int64_t>(c)) = x(i, columns[c]);
    return result;
}

FeatureMatrix truncated_regression(const FeatureMatrix& x, const FeatureMatrix& y, double relative_cutoff) {
    const Svd d = svd(x);
    const int r = kept_components(d.s, relative_cutoff);
    // P = V_r S_r^-1 U_r^T y
    FeatureMatrix z(r, y.cols);
    for (int k = 0; k < r; ++k)
        for (int64_t i = 0; i < x.rows; ++i) {
            const double u = d.u[i * d.k + k] / d.s[k];
            for (int64_t j = 0; j < y.cols; ++j) z(k, j) += u * y(i, j);
        }
    FeatureMatrix p(x.cols, y.cols);
    for (int k = 0; k < r; ++k)
        for (int64_t a = 0; a < x.cols; ++a) {
            const double v = d.vt[k * x.cols + a];
            for (int64_t j = 0; j < y.cols; ++j) p(a, j) += v * z(k, j);
        }
    return p;
}

double cross_validated_cutoff(const FeatureMatrix& x, const FeatureMatrix& y, uint64_t seed) {
    const Split halves = two_fold_split(x.rows, seed ^ 0x9e3779b97f4a7c15ULL);
    const FeatureMatrix xa = select_rows(x, halves.train), ya = select_rows(y, halves.train);
    const FeatureMatrix xb = select_rows(x, halves.test), yb = select_rows(y, halves.test);
    std::vector<double> sa, sb;
    const std::vector<double> errors_b = truncation_errors(xa, ya, xb, yb, sa);
    const std::vector<double> errors_a = truncation_errors(xb, yb, xa, ya, sb);
    double best_cutoff = machine_cutoff, best_error = INFINITY;
    std::vector<double> cutoffs(std::begin(candidate_cutoffs), std::end(candidate_cutoffs));
    cutoffs.push_back(machine_cutoff);
    for (double cutoff : cutoffs) {
        const int ra = std::min<int>(kept_components(sa, cutoff), static_cast<int>(errors_b.size()) - 1);
        const int rb = std::min<int>(kept_components(sb, cutoff), static_cast<int>(errors_a.size()) - 1);
        const double error = errors_b[ra] + errors_a[rb];
        if (error < best_error * (1 - 1e-12)) {
            best_error = error;
            best_cutoff = cutoff;
        }
    }
    return best_cutoff;
}

namespace {

// What GFRE and GFRD share: both standardised matrices, the split, the regularisation and the
// projector P fitted on the train half (eq 2.1).
struct GlobalFit {
    FeatureMatrix x, y;
    Split split;
    double relative_cutoff = 0;
    FeatureMatrix p;
};

GlobalFit fit_globally(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options) {
    require_same_samples(f, f_prime);
    GlobalFit fit;
    fit.x = standardized(f, "F");
    fit.y = standardized(f_prime, "F'");
    fit.split = two_fold_split(fit.x.rows, options.seed);
    const FeatureMatrix x_train = select_rows(fit.x, fit.split.train), y_train = select_rows(fit.y, fit.split.train);
    fit.relative_cutoff =
        options.relative_cutoff >= 0 ? options.relative_cutoff : cross_validated_cutoff(x_train, y_train, options.seed);
    fit.p = truncated_regression(x_train, y_train, fit.relative_cutoff);
    return fit;
}

// GFRE (eq 2.2), train and test, and the pointwise errors of the test samples (eq 2.17).
Reconstruction reconstruction_errors(const GlobalFit& fit) {
    const FeatureMatrix x_train = select_rows(fit.x, fit.split.train), y_train = select_rows(fit.y, fit.split.train);
    const FeatureMatrix x_test = select_rows(fit.x, fit.split.test), y_test = select_rows(fit.y, fit.split.test);
    Reconstruction result;
    result.relative_cutoff = fit.relative_cutoff;
    const FeatureMatrix train_prediction = multiply(x_train, fit.p), test_prediction = multiply(x_test, fit.p);
    result.train_error = root_mean_square(squared_difference(y_train, train_prediction), x_train.rows);
    result.test_error = root_mean_square(squared_difference(y_test, test_prediction), x_test.rows);
    for (int64_t i = 0; i < x_test.rows; ++i) {
        double sum = 0;
        for (int64_t j = 0; j < fit.y.cols; ++j) sum += (y_test(i, j) - test_prediction(i, j)) * (y_test(i, j) - test_prediction(i, j));
        result.pointwise.push_back(std::sqrt(sum));
    }
    return result;
}

// GFRD (eqs 2.3-2.5).
double distortion(const GlobalFit& fit) {
    // P = U S V^T; X~_F = X U (U completed to an orthogonal m x m basis), X~_F' = X~_F S padded
    // with zeros to m columns. The completion need not be formed: Procrustes over all orthogonal Q
    // of X~_F Q is Procrustes of X itself, so B = [X U_k S_k, 0] is aligned with X directly.
    const Svd d = svd(fit.p);
    const int64_t m = fit.x.cols;
    FeatureMatrix us(m, m);
    for (int64_t a = 0; a < m; ++a)
        for (int k = 0; k < d.k && k < m; ++k) us(a, k) = d.u[a * d.k + k] * d.s[k];
    const FeatureMatrix b = multiply(fit.x, us);
    const FeatureMatrix a_train = select_rows(fit.x, fit.split.train), b_train = select_rows(b, fit.split.train);
    const FeatureMatrix a_test = select_rows(fit.x, fit.split.test), b_test = select_rows(b, fit.split.test);
    // Q = U~ V~^T from the SVD of A^T B (orthogonal Procrustes, eq 2.4)
    const Svd alignment = svd(multiply(a_train, b_train, true));
    FeatureMatrix q(m, m);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < m; ++j) {
            double sum = 0;
            for (int k = 0; k < alignment.k; ++k) sum += alignment.u[i * alignment.k + k] * alignment.vt[k * m + j];
            q(i, j) = sum;
        }
    return root_mean_square(squared_difference(b_test, multiply(a_test, q)), a_test.rows);
}

}  // namespace

Reconstruction gfre(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options) {
    return reconstruction_errors(fit_globally(f, f_prime, options));
}

double gfrd(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options) {
    return distortion(fit_globally(f, f_prime, options));
}

GlobalComparison compare_globally(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options) {
    const GlobalFit fit = fit_globally(f, f_prime, options);
    return {reconstruction_errors(fit), distortion(fit)};
}

Reconstruction lfre(const FeatureMatrix& f, const FeatureMatrix& f_prime, int64_t k_neighbours,
                    const ComparisonOptions& options) {
    require_same_samples(f, f_prime);
    const FeatureMatrix x = standardized(f, "F"), y = standardized(f_prime, "F'");
    const Split split = two_fold_split(x.rows, options.seed);
    const int64_t n_train = static_cast<int64_t>(split.train.size());
    if (k_neighbours < 2 || k_neighbours > n_train) {
        fail(Status::invalid_argument, "the LFRE neighbourhood must have between 2 and ", n_train,
             " (the train set) samples, got ", k_neighbours);
    }
    // The local fits have fewer samples than features, so a fixed regularisation is used unless one
    // is given (the thesis's pointwise analyses use 1e-3).
    const double cutoff = options.relative_cutoff >= 0 ? options.relative_cutoff : 1e-3;
    Reconstruction result;
    result.relative_cutoff = cutoff;
    result.pointwise.assign(split.test.size(), 0.0);
    const int64_t n_test = static_cast<int64_t>(split.test.size());
    parallel_for(n_test, 1, n_test > 1, [&](int64_t t) {
        const int64_t i = split.test[t];
        std::vector<std::pair<double, int64_t>> distances;
        for (int64_t j : split.train) {
            double d = 0;
            for (int64_t c = 0; c < x.cols; ++c) d += (x(i, c) - x(j, c)) * (x(i, c) - x(j, c));
            distances.emplace_back(d, j);
        }
        std::partial_sort(distances.begin(), distances.begin() + k_neighbours, distances.end());
        std::vector<int64_t> neighbourhood;
        for (int64_t k = 0; k < k_neighbours; ++k) neighbourhood.push_back(distances[k].second);
        FeatureMatrix xl = select_rows(x, neighbourhood), yl = select_rows(y, neighbourhood);
        std::vector<double> x_mean(x.cols, 0.0), y_mean(y.cols, 0.0);
        for (int64_t r = 0; r < k_neighbours; ++r) {
            for (int64_t c = 0; c < x.cols; ++c) x_mean[c] += xl(r, c) / k_neighbours;
            for (int64_t c = 0; c < y.cols; ++c) y_mean[c] += yl(r, c) / k_neighbours;
        }
        for (int64_t r = 0; r < k_neighbours; ++r) {
            for (int64_t c = 0; c < x.cols; ++c) xl(r, c) -= x_mean[c];
            for (int64_t c = 0; c < y.cols; ++c) yl(r, c) -= y_mean[c];
        }
        const FeatureMatrix p = truncated_regression(xl, yl, cutoff);
        double sum = 0;
        for (int64_t c = 0; c < y.cols; ++c) {
            double predicted = y_mean[c];
            for (int64_t a = 0; a < x.cols; ++a) predicted += (x(i, a) - x_mean[a]) * p(a, c);
            sum += (y(i, c) - predicted) * (y(i, c) - predicted);
        }
        result.pointwise[t] = std::sqrt(sum);
    });
    double total = 0;
    for (double e : result.pointwise) total += e * e;
    result.test_error = root_mean_square(total, n_test);
    return result;
}

FeatureMatrix kernel_features(const FeatureMatrix& x, const std::vector<int64_t>& reference,
                              const KernelSettings& settings) {
    const int64_t r = static_cast<int64_t>(reference.size());
    if (r < 2) fail(Status::invalid_argument, "kernel features need at least 2 reference samples");
    if (!(settings.gamma > 0)) fail(Status::invalid_argument, "kernel gamma must be > 0, got ", settings.gamma);
    const FeatureMatrix ref = select_rows(x, reference);
    FeatureMatrix dots(x.rows, r);
    gemm(false, true, x.rows, r, x.cols, 1.0, x.values.data(), x.cols, ref.values.data(), x.cols, 0.0, dots.values.data(),
         r);
    std::vector<double> x_norms(x.rows, 0.0);
    for (int64_t i = 0; i < x.rows; ++i)
        for (int64_t c = 0; c < x.cols; ++c) x_norms[i] += x(i, c) * x(i, c);
    FeatureMatrix k = dots;
    for (int64_t i = 0; i < x.rows; ++i)
        for (int64_t j = 0; j < r; ++j) {
            const double dot = dots(i, j);
            switch (settings.type) {
            case InducedKernel::linear: k(i, j) = dot; break;
            case InducedKernel::polynomial: k(i, j) = std::pow(1 + settings.gamma * dot, settings.degree); break;
            case InducedKernel::rbf:
                k(i, j) = std::exp(-settings.gamma * std::max(0.0, x_norms[i] + x_norms[reference[j]] - 2 * dot));
                break;
            }
        }
    const FeatureMatrix centred = centred_against_reference(k, reference);
    return project_on_eigenvectors(centred, reference_block(centred, reference), r, settings.variance_kept);
}

FeatureMatrix distance_features(const FeatureMatrix& x, const std::vector<int64_t>& reference, double variance_kept) {
    const int64_t r = static_cast<int64_t>(reference.size());
    if (r < 2) fail(Status::invalid_argument, "distance features need at least 2 reference samples");
    FeatureMatrix d2(x.rows, r);
    for (int64_t i = 0; i < x.rows; ++i)
        for (int64_t j = 0; j < r; ++j) {
            double sum = 0;
            for (int64_t c = 0; c < x.cols; ++c) sum += (x(i, c) - x(reference[j], c)) * (x(i, c) - x(reference[j], c));
            d2(i, j) = sum;
        }
    for (double& v : d2.values) v *= -0.5;
    const FeatureMatrix centred = centred_against_reference(d2, reference);
    return project_on_eigenvectors(centred, reference_block(centred, reference), r, variance_kept);
}

namespace {

FeatureMatrix transposed(const FeatureMatrix& x) {
    FeatureMatrix t(x.cols, x.rows);
    for (int64_t i = 0; i < x.rows; ++i)
        for (int64_t c = 0; c < x.cols; ++c) t(c, i) = x(i, c);
    return t;
}

void require_selectable(int64_t n_select, int64_t available, const char* what) {
    if (n_select < 1 || n_select > available) fail(Status::invalid_argument, "cannot select ", n_select, " of ", available, " ", what);
}

}  // namespace

std::vector<int64_t> cur_select_columns(const FeatureMatrix& x, int64_t n_select) {
    require_selectable(n_select, x.cols, "features");
    const FeatureMatrix t = transposed(x);
    return cur_selection(t.rows, t.cols, t.values.data(), n_select);
}

std::vector<int64_t> fps_select_rows(const FeatureMatrix& x, int64_t n_select) {
    require_selectable(n_select, x.rows, "samples");
    return farthest_point_sampling(x.rows, x.cols, x.values.data(), n_select);
}

std::vector<int64_t> fps_select_columns(const FeatureMatrix& x, int64_t n_select) {
    require_selectable(n_select, x.cols, "features");
    const FeatureMatrix t = transposed(x);
    return farthest_point_sampling(t.rows, t.cols, t.values.data(), n_select);
}

std::vector<double> pca_explained_variance(const FeatureMatrix& x) {
    const FeatureMatrix centred = standardized(x, "features");
    const Svd d = svd(centred);
    double total = 0;
    for (double s : d.s) total += s * s;
    std::vector<double> fractions;
    for (double s : d.s) fractions.push_back(s * s / total);
    return fractions;
}

ComparisonOptions ComparisonOptions::parse(const std::string& json_text) {
    const json parsed = json_text.empty() ? json::object() : parse_json(json_text);
    if (!parsed.is_object()) fail(Status::json_error, "feature-space options must be a JSON object");
    SpecReader r(parsed, "feature-space options");
    ComparisonOptions options;
    options.seed = static_cast<uint64_t>(r.integer("seed", 1, 0));
    if (r.has("relative_cutoff")) options.relative_cutoff = r.number("relative_cutoff", std::nullopt, 0.0, 1.0);
    options.lfre_neighbours = r.integer("lfre_neighbours", 15, 0);
    r.finish();
    return options;
}

TwoWayComparison compare_both_ways(const FeatureMatrix& a, const FeatureMatrix& b, const ComparisonOptions& options,
                                   bool with_distortion) {
    TwoWayComparison out;
    const FeatureMatrix* from[2] = {&a, &b};
    for (int d = 0; d < 2; ++d) {
        const FeatureMatrix& x = *from[d];
        const FeatureMatrix& y = *from[1 - d];
        // One regression serves GFRE and, when asked for, GFRD.
        if (with_distortion) {
            const GlobalComparison global = compare_globally(x, y, options);
            out.global[d] = global.reconstruction;
            out.distortion[d] = global.distortion;
        } else {
            out.global[d] = gfre(x, y, options);
        }
        if (options.lfre_neighbours > 0) out.local[d] = lfre(x, y, options.lfre_neighbours, options);
    }
    return out;
}

}  // namespace atomfp
