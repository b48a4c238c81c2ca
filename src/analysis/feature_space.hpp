// Comparing feature spaces and choosing features (Goscinski's thesis, ch. 2, eqs 2.1-2.12 and 2.17;
// Onat, Ortner & Kermode, sec. V B and VI B): how well one feature matrix linearly reconstructs
// another (GFRE, globally and per point; LFRE, in k-neighbourhoods), how much the reconstruction
// distorts it (GFRD), kernel- and distance-induced features, and CUR / FPS / PCA.
//
// Matrices are row-major [samples][features]. Unless said otherwise every function standardises its
// inputs first: columns centred on the whole data set, and the matrix scaled so that
// |X|_F^2 / n_samples = 1 (a global scale, so that relative feature weights are kept).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace atomfp {

struct FeatureMatrix {
    int64_t rows = 0, cols = 0;
    std::vector<double> values;  // [rows][cols]

    FeatureMatrix() = default;
    FeatureMatrix(int64_t r, int64_t c) : rows(r), cols(c), values(static_cast<std::size_t>(r * c), 0.0) {}
    double& operator()(int64_t i, int64_t j) { return values[static_cast<std::size_t>(i * cols + j)]; }
    double operator()(int64_t i, int64_t j) const { return values[static_cast<std::size_t>(i * cols + j)]; }
};

// Centred columns, global scale |X|^2 / n = 1. Throws Error(invalid_argument) for fewer than two
// samples, non-finite values, or a matrix whose features are all constant (nothing to reconstruct).
FeatureMatrix standardized(const FeatureMatrix& x, const char* name);

// A reproducible random split into two halves (train gets the extra sample of an odd count).
struct Split {
    std::vector<int64_t> train, test;
};
Split two_fold_split(int64_t n_samples, uint64_t seed);

FeatureMatrix select_rows(const FeatureMatrix& x, const std::vector<int64_t>& rows);
FeatureMatrix select_columns(const FeatureMatrix& x, const std::vector<int64_t>& columns);

// Least-squares weights P [x.cols][y.cols] of y ~ x P through the singular value decomposition of
// x, keeping the singular values above `relative_cutoff` times the largest.
FeatureMatrix truncated_regression(const FeatureMatrix& x, const FeatureMatrix& y, double relative_cutoff);

// The relative cutoff among 10^-1 ... 10^-12 (and none) with the smallest reconstruction error in a
// 2-fold cross-validation over (x, y): the regularisation of eq 2.1.
double cross_validated_cutoff(const FeatureMatrix& x, const FeatureMatrix& y, uint64_t seed);

struct Reconstruction {
    double test_error = 0;             // eq 2.2 (GFRE) or 2.7 (LFRE)
    double train_error = 0;
    std::vector<double> pointwise;     // |x'_i - x_i P| per test sample (eq 2.17)
    double relative_cutoff = 0;        // the regularisation used
};

struct ComparisonOptions {
    uint64_t seed = 1;                 // of the train/test split
    double relative_cutoff = -1;       // < 0: chosen by inner 2-fold cross-validation
    int64_t lfre_neighbours = 15;      // k of LFRE; 0 skips it

    // From a JSON object with the optional keys "seed", "relative_cutoff" (in (0, 1]) and
    // "lfre_neighbours"; "" gives the defaults. Throws Error(json) for anything else.
    static ComparisonOptions parse(const std::string& json_text);
};

// GFRE(F, F'): F reconstructs F' (both standardised, same samples).
Reconstruction gfre(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options = {});

// GFRD(F, F') (eqs 2.3-2.5): the projector's SVD gives a common basis, orthogonal Procrustes aligns
// the two, and the residual on the test set is the distortion.
double gfrd(const FeatureMatrix& f, const FeatureMatrix& f_prime, const ComparisonOptions& options = {});

// GFRE and GFRD of one regression: what gfre() and gfrd() give, for the price of one fit.
struct GlobalComparison {
    Reconstruction reconstruction;
    double distortion = 0;
};
GlobalComparison compare_globally(const FeatureMatrix& f, const FeatureMatrix& f_prime,
                                  const ComparisonOptions& options = {});

// Both directions at once: [0] a reconstructs b, [1] b reconstructs a. GFRD only when
// `with_distortion`; LFRE only when options.lfre_neighbours > 0 (zero errors otherwise).
struct TwoWayComparison {
    Reconstruction global[2];
    double distortion[2] = {0, 0};
    Reconstruction local[2];
};
TwoWayComparison compare_both_ways(const FeatureMatrix& a, const FeatureMatrix& b, const ComparisonOptions& options,
                                   bool with_distortion);

// LFRE(F, F') (eqs 2.6-2.7): each test point reconstructed from a regression over its k nearest
// train neighbours in F.
Reconstruction lfre(const FeatureMatrix& f, const FeatureMatrix& f_prime, int64_t k_neighbours,
                    const ComparisonOptions& options = {});

// Explicit RKHS features of a kernel (eq 2.12): the kernel matrix over the reference samples is
// centred in feature space (kernel PCA) and diagonalised, the eigenvectors carrying `variance_kept`
// of the variance are kept, and every sample is projected (Nystrom: k_c(x, reference) U
// Lambda^{-1/2}).
enum class InducedKernel { linear, polynomial, rbf };
struct KernelSettings {
    InducedKernel type = InducedKernel::rbf;
    double gamma = 1.0;    // rbf: exp(-gamma |x - x'|^2); polynomial: (1 + gamma x.x')^degree
    int degree = 2;
    double variance_kept = 0.99;
};
FeatureMatrix kernel_features(const FeatureMatrix& x, const std::vector<int64_t>& reference,
                              const KernelSettings& settings);

// Features induced by the Euclidean distance: the doubly centred squared distances over the
// reference samples (classical scaling), diagonalised and projected like kernel features.
FeatureMatrix distance_features(const FeatureMatrix& x, const std::vector<int64_t>& reference, double variance_kept);

// Deterministic CUR selection of columns (core/selection.hpp; may return fewer than asked once the
// rank is exhausted).
std::vector<int64_t> cur_select_columns(const FeatureMatrix& x, int64_t n_select);
// Farthest point sampling of rows (samples), starting from the row farthest from the mean.
std::vector<int64_t> fps_select_rows(const FeatureMatrix& x, int64_t n_select);
// Farthest point sampling of columns (features as points in sample space).
std::vector<int64_t> fps_select_columns(const FeatureMatrix& x, int64_t n_select);
// Fractions of variance of the principal components, descending (they sum to 1).
std::vector<double> pca_explained_variance(const FeatureMatrix& x);

}  // namespace atomfp
