// Feature-space comparison and selection: identities that hold exactly (a space reconstructs itself
// and its linear images; an orthogonal image is undistorted), constructed cases whose answer is
// known (rank-deficient spaces, anisotropic scaling, a nonlinear map that is linear locally, known
// PCA spectra, points whose farthest-point order is known), and bad input.
#include "analysis/feature_space.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"
#include "descriptors/factory.hpp"
#include "checks.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace atomfp {
namespace {

FeatureMatrix random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
    std::mt19937_64 generator(seed);
    std::normal_distribution<double> normal;
    FeatureMatrix x(rows, cols);
    for (double& v : x.values) v = normal(generator);
    return x;
}

FeatureMatrix product(const FeatureMatrix& a, const FeatureMatrix& b) {
    FeatureMatrix c(a.rows, b.cols);
    for (int64_t i = 0; i < a.rows; ++i)
        for (int64_t k = 0; k < a.cols; ++k)
            for (int64_t j = 0; j < b.cols; ++j) c(i, j) += a(i, k) * b(k, j);
    return c;
}

// A random orthogonal matrix from the Gram-Schmidt process on a random one.
FeatureMatrix random_orthogonal(int64_t n, uint64_t seed) {
    FeatureMatrix q = random_matrix(n, n, seed);
    for (int64_t j = 0; j < n; ++j) {
        for (int64_t p = 0; p < j; ++p) {
            double dot = 0;
            for (int64_t i = 0; i < n; ++i) dot += q(i, j) * q(i, p);
            for (int64_t i = 0; i < n; ++i) q(i, j) -= dot * q(i, p);
        }
        double norm = 0;
        for (int64_t i = 0; i < n; ++i) norm += q(i, j) * q(i, j);
        for (int64_t i = 0; i < n; ++i) q(i, j) /= std::sqrt(norm);
    }
    return q;
}

TEST(FeatureSpace, SingularValueDecompositionReconstructsTheMatrix) {
    for (auto shape : {std::pair<int, int>{7, 4}, {4, 7}}) {
        const FeatureMatrix a = random_matrix(shape.first, shape.second, 3);
        std::vector<double> u, s, vt;
        singular_value_decomposition(shape.first, shape.second, a.values, u, s, vt);
        const int k = std::min(shape.first, shape.second);
        for (int i = 0; i < shape.first; ++i)
            for (int j = 0; j < shape.second; ++j) {
                double sum = 0;
                for (int r = 0; r < k; ++r) sum += u[i * k + r] * s[r] * vt[r * shape.second + j];
                EXPECT_NEAR(sum, a(i, j), 1e-12);
            }
        for (int r = 1; r < k; ++r) EXPECT_GE(s[r - 1], s[r]);
        for (int p = 0; p < k; ++p)
            for (int q = 0; q < k; ++q) {
                double uu = 0, vv = 0;
                for (int i = 0; i < shape.first; ++i) uu += u[i * k + p] * u[i * k + q];
                for (int j = 0; j < shape.second; ++j) vv += vt[p * shape.second + j] * vt[q * shape.second + j];
                EXPECT_NEAR(uu, p == q ? 1.0 : 0.0, 1e-12);
                EXPECT_NEAR(vv, p == q ? 1.0 : 0.0, 1e-12);
            }
    }
}

TEST(FeatureSpace, StandardisationCentresAndScalesGlobally) {
    FeatureMatrix x = random_matrix(50, 3, 1);
    for (int64_t i = 0; i < x.rows; ++i) x(i, 1) = 10 * x(i, 1) + 4;
    const FeatureMatrix s = standardized(x, "x");
    double total = 0, column0 = 0, column1 = 0;
    for (int64_t i = 0; i < s.rows; ++i) {
        for (int64_t j = 0; j < s.cols; ++j) total += s(i, j) * s(i, j);
        column0 += s(i, 0) * s(i, 0);
        column1 += s(i, 1) * s(i, 1);
    }
    EXPECT_NEAR(total / s.rows, 1.0, 1e-12);
    EXPECT_GT(column1, 20 * column0);  // relative weights are kept
}

TEST(FeatureSpace, GfreOfASpaceAndItsLinearImagesIsZero) {
    const FeatureMatrix f = random_matrix(120, 6, 2);
    EXPECT_LT(gfre(f, f).test_error, 1e-10);
    const FeatureMatrix image = product(f, random_matrix(6, 9, 5));  // F' = F A, more columns than F
    EXPECT_LT(gfre(f, image).test_error, 1e-10);
    // the reverse is also exact: A has full row rank
    EXPECT_LT(gfre(image, f).test_error, 1e-8);
}

TEST(FeatureSpace, GfreSeesMissingInformation) {
    const FeatureMatrix f = random_matrix(200, 5, 3);
    const FeatureMatrix two = select_columns(f, {0, 1});
    EXPECT_LT(gfre(f, two).test_error, 1e-10);
    // two of five independent unit-variance columns explain 2/5 of the variance: error sqrt(3/5)
    const Reconstruction lost = gfre(two, f);
    EXPECT_NEAR(lost.test_error, std::sqrt(3.0 / 5.0), 0.1);
    ASSERT_EQ(lost.pointwise.size(), 100u);
    double mean_square = 0;
    for (double e : lost.pointwise) mean_square += e * e / lost.pointwise.size();
    EXPECT_NEAR(std::sqrt(mean_square), lost.test_error, 1e-12);  // eq 2.17 averages to eq 2.2
}

TEST(FeatureSpace, GfrdIsZeroForAnOrthogonalImageAndNotForAScaling) {
    const FeatureMatrix f = random_matrix(150, 4, 4);
    EXPECT_LT(gfrd(f, product(f, random_orthogonal(4, 8))), 1e-10);
    FeatureMatrix scaling(4, 4);
    const double factors[] = {3.0, 1.0, 0.5, 0.2};
    for (int k = 0; k < 4; ++k) scaling(k, k) = factors[k];
    const FeatureMatrix stretched = product(f, scaling);
    EXPECT_LT(gfre(f, stretched).test_error, 1e-10);  // no information lost ...
    EXPECT_GT(gfrd(f, stretched), 0.2);               // ... but distorted
}

TEST(FeatureSpace, OneFitGivesBothGlobalMeasures) {
    const FeatureMatrix f = random_matrix(90, 5, 13), f_prime = product(random_matrix(90, 5, 13), random_matrix(5, 3, 14));
    const FeatureMatrix g = random_matrix(90, 4, 15);
    const GlobalComparison both = compare_globally(f, g);
    EXPECT_EQ(both.reconstruction.test_error, gfre(f, g).test_error);
    EXPECT_EQ(both.reconstruction.pointwise, gfre(f, g).pointwise);
    EXPECT_EQ(both.distortion, gfrd(f, g));
    EXPECT_LT(compare_globally(f, f_prime).reconstruction.test_error, 1e-10);
}

TEST(FeatureSpace, LfreFollowsANonlinearMapThatGfreCannot) {
    const int64_t n = 400;
    FeatureMatrix f(n, 1), f_prime(n, 1);
    for (int64_t i = 0; i < n; ++i) {
        f(i, 0) = -3.0 + 6.0 * i / (n - 1);
        f_prime(i, 0) = std::sin(2.0 * f(i, 0));
    }
    const double global = gfre(f, f_prime).test_error;
    const double local = lfre(f, f_prime, 10).test_error;
    EXPECT_GT(global, 0.5);
    EXPECT_LT(local, 0.05 * global);
    // with every train point in the neighbourhood the local fit is the global one (up to centring on
    // the train set's mean rather than the whole set's)
    const Reconstruction all = lfre(f, f_prime, (n + 1) / 2, {1, 0.0});
    EXPECT_NEAR(all.test_error, gfre(f, f_prime, {1, 0.0}).test_error, 0.01 * all.test_error);
}

TEST(FeatureSpace, LinearKernelAndDistanceFeaturesSpanTheOriginalSpace) {
    const FeatureMatrix f = standardized(random_matrix(100, 5, 6), "f");
    const Split split = two_fold_split(f.rows, 1);
    KernelSettings linear;
    linear.type = InducedKernel::linear;
    linear.variance_kept = 1.0;
    const FeatureMatrix k = kernel_features(f, split.train, linear);
    EXPECT_EQ(k.cols, 5);
    EXPECT_LT(gfre(f, k).test_error, 1e-8);
    EXPECT_LT(gfre(k, f).test_error, 1e-8);
    const FeatureMatrix d = distance_features(f, split.train, 1.0);
    EXPECT_LT(gfre(f, d).test_error, 1e-8);
    EXPECT_LT(gfrd(f, d), 1e-6);  // classical scaling returns the centred points, rotated
}

TEST(FeatureSpace, SharperKernelsAreHarderToReconstructLinearly) {
    const FeatureMatrix f = standardized(random_matrix(300, 3, 7), "f");
    const Split split = two_fold_split(f.rows, 1);
    KernelSettings smooth, sharp;
    smooth.gamma = 0.01;
    sharp.gamma = 3.0;
    const double smooth_error = gfre(f, kernel_features(f, split.train, smooth)).test_error;
    const double sharp_error = gfre(f, kernel_features(f, split.train, sharp)).test_error;
    EXPECT_LT(smooth_error, 0.2);
    EXPECT_GT(sharp_error, 2 * smooth_error);
}

TEST(FeatureSpace, CurPicksASpanningSetOfColumns) {
    // three independent columns and six linear combinations of them
    const FeatureMatrix base = random_matrix(80, 3, 8);
    const FeatureMatrix x = product(base, random_matrix(3, 9, 9));
    const std::vector<int64_t> chosen = cur_select_columns(x, 3);
    ASSERT_EQ(chosen.size(), 3u);
    EXPECT_LT(gfre(select_columns(x, chosen), x).test_error, 1e-8);
    EXPECT_EQ(cur_select_columns(x, 3), chosen);  // deterministic
    const std::vector<int64_t> one = cur_select_columns(x, 1);
    EXPECT_GT(gfre(select_columns(x, one), x).test_error, 0.1);
}

TEST(FeatureSpace, FarthestPointSamplingOrder) {
    FeatureMatrix points(4, 1);
    const double values[] = {0.0, 1.0, 2.0, 10.0};
    for (int i = 0; i < 4; ++i) points(i, 0) = values[i];
    // the mean is 3.25: first 10, then 0 (farthest from 10), then 2 (1 is nearer to 0)
    EXPECT_EQ(fps_select_rows(points, 3), (std::vector<int64_t>{3, 0, 2}));
    FeatureMatrix columns(1, 4);
    for (int i = 0; i < 4; ++i) columns(0, i) = values[i];
    EXPECT_EQ(fps_select_columns(columns, 3), (std::vector<int64_t>{3, 0, 2}));
}

TEST(FeatureSpace, PcaRecoversKnownVariances) {
    const int64_t n = 20000;
    FeatureMatrix z = random_matrix(n, 3, 10);
    const double scales[] = {3.0, 2.0, 1.0};
    for (int64_t i = 0; i < n; ++i)
        for (int k = 0; k < 3; ++k) z(i, k) *= scales[k];
    const std::vector<double> fractions = pca_explained_variance(product(z, random_orthogonal(3, 11)));
    ASSERT_EQ(fractions.size(), 3u);
    EXPECT_NEAR(fractions[0], 9.0 / 14, 0.02);
    EXPECT_NEAR(fractions[1], 4.0 / 14, 0.02);
    EXPECT_NEAR(fractions[2], 1.0 / 14, 0.01);
}

TEST(FeatureSpace, BadInputIsAClearError) {
    const FeatureMatrix f = random_matrix(20, 3, 12);
    auto expect_invalid = [](auto call, const std::string& fragment) {
        try {
            call();
            ADD_FAILURE() << "expected an error containing '" << fragment << "'";
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), Status::invalid_argument);
            EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
        }
    };
    expect_invalid([&] { gfre(f, random_matrix(19, 3, 1)); }, "different numbers of samples");
    FeatureMatrix constant(20, 2);
    for (double& v : constant.values) v = 1.5;
    expect_invalid([&] { gfre(f, constant); }, "every feature is constant");
    expect_invalid([&] { gfre(random_matrix(3, 2, 1), random_matrix(3, 2, 2)); }, "at least 4 samples");
    FeatureMatrix with_nan = f;
    with_nan(4, 1) = NAN;
    expect_invalid([&] { gfrd(with_nan, f); }, "sample 4 feature 1");
    expect_invalid([&] { lfre(f, f, 50); }, "LFRE neighbourhood");
    expect_invalid([&] { cur_select_columns(f, 4); }, "cannot select 4 of 3 features");
    expect_invalid([&] { fps_select_rows(f, 0); }, "cannot select 0");
}

}  // namespace
}  // namespace atomfp

namespace atomfp {
namespace {

TEST(FeatureSubsetDescriptor, IsTheChosenColumnsOfTheWrappedDescriptor) {
    const std::string inner = R"({"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "max_radial": 4,
                                  "max_angular": 3})";
    const auto full = create_descriptor(inner);
    const std::vector<int64_t> chosen = {7, 0, 23, 5};
    const auto subset = create_descriptor(R"({"type": "feature_subset", "features": [7, 0, 23, 5], "descriptor": )" +
                                          inner + "}");
    ASSERT_EQ(subset->feature_count(), 4);
    EXPECT_EQ(subset->feature_label(2), full->feature_label(23));
    EXPECT_EQ(create_descriptor(subset->parameters().dump())->parameters(), subset->parameters());

    const test::Structure s = test::diamond(1, 5.431, 0.2, 5);
    const NeighbourList list = test::neighbour_list(s, full->cutoff());
    const std::vector<double> f_full = test::features_of(*full, list.view()), f_sub = test::features_of(*subset, list.view());
    const std::vector<double> g_full = test::gradients_of(*full, list.view()), g_sub = test::gradients_of(*subset, list.view());
    const int64_t n_full = full->feature_count();
    for (int64_t c = 0; c < s.size(); ++c)
        for (size_t k = 0; k < chosen.size(); ++k) EXPECT_EQ(f_sub[c * 4 + k], f_full[c * n_full + chosen[k]]);
    const int64_t n_rows = static_cast<int64_t>(g_full.size()) / n_full;  // blocks x 3
    for (int64_t row = 0; row < n_rows; ++row)
        for (size_t k = 0; k < chosen.size(); ++k) EXPECT_EQ(g_sub[row * 4 + k], g_full[row * n_full + chosen[k]]);
    test::check_finite_differences(*subset, s.positions, list.view(), test::all_atoms(s.size()));

    for (const char* bad : {R"({"type": "feature_subset", "features": [40], "descriptor": )",
                            R"({"type": "feature_subset", "features": [], "descriptor": )",
                            R"({"type": "feature_subset", "feature": [1], "descriptor": )"}) {
        try {
            create_descriptor(std::string(bad) + inner + "}");
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& error) {
            EXPECT_EQ(error.status(), Status::json_error) << error.what();
        }
    }
}

}  // namespace
// Both directions at once equal the one-direction functions, and the options reader keeps the
// documented defaults and refuses anything else.
TEST(FeatureSpace, BothWaysEqualsEachDirection) {
    const FeatureMatrix a = standardized(random_matrix(80, 5, 11), "a");
    FeatureMatrix b_raw = product(random_matrix(80, 5, 11), random_matrix(5, 3, 12));
    for (double& x : b_raw.values) x = x * x;
    const FeatureMatrix b = standardized(b_raw, "b");
    ComparisonOptions options;
    options.lfre_neighbours = 10;
    const TwoWayComparison both = compare_both_ways(a, b, options, true);
    const GlobalComparison ab = compare_globally(a, b, options), ba = compare_globally(b, a, options);
    EXPECT_EQ(both.global[0].test_error, ab.reconstruction.test_error);
    EXPECT_EQ(both.global[1].test_error, ba.reconstruction.test_error);
    EXPECT_EQ(both.global[0].pointwise, ab.reconstruction.pointwise);
    EXPECT_EQ(both.distortion[0], ab.distortion);
    EXPECT_EQ(both.distortion[1], ba.distortion);
    EXPECT_EQ(both.local[0].test_error, lfre(a, b, 10, options).test_error);
    EXPECT_EQ(both.local[1].test_error, lfre(b, a, 10, options).test_error);
    EXPECT_EQ(compare_both_ways(a, b, options, false).global[1].test_error, gfre(b, a, options).test_error);
    options.lfre_neighbours = 0;
    EXPECT_EQ(compare_both_ways(a, b, options, false).local[0].test_error, 0.0);
}

TEST(FeatureSpace, ComparisonOptionsReader) {
    const ComparisonOptions defaults = ComparisonOptions::parse("");
    EXPECT_EQ(defaults.seed, 1u);
    EXPECT_LT(defaults.relative_cutoff, 0.0);
    EXPECT_EQ(defaults.lfre_neighbours, 15);
    const ComparisonOptions set = ComparisonOptions::parse(R"({"seed": 4, "relative_cutoff": 1e-6, "lfre_neighbours": 3})");
    EXPECT_EQ(set.seed, 4u);
    EXPECT_EQ(set.relative_cutoff, 1e-6);
    EXPECT_EQ(set.lfre_neighbours, 3);
    for (const char* bad : {"[1]", R"({"seed": -1})", R"({"relative_cutoff": 2})", R"({"k": 3})", R"({"seed": 1, "seed": 2})"}) {
        EXPECT_THROW(ComparisonOptions::parse(bad), Error) << bad;
    }
}

}  // namespace atomfp
