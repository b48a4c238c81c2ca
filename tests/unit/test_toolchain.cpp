// Code generation checks, compiled with the library's flags: a build whose compiler miscompiles
// these (GCC 12 at -march=x86-64-v4 folds this literal into a broadcast of its first element) fails
// here instead of giving silently wrong descriptors. The run-time dispatched AVX2 copies
// (core/simd.hpp) are checked the same way, and the vector kernels against a scalar loop.
#include "core/simd.hpp"
#include "core/small_kernels.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace {

__attribute__((noinline)) std::vector<double> occupations() { return std::vector<double>({1, 1, 1, 1, 0, 0, 0, 0}); }

#if ATOMFP_MULTIVERSIONING
#define TEST_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TEST_CLONES
#endif

// The copy the loader picks on this CPU, as the library's dispatched kernels are built.
TEST_CLONES std::vector<double> occupations_dispatched() {
    return std::vector<double>({1, 1, 1, 1, 0, 0, 0, 0});
}

// out = y^T W for the small kernel with `lanes`, from a function compiled like the dispatched ones.
TEST_CLONES void products(bool four_lanes, int64_t n, const double* y, const double* w,
                        int width, double* out) {
    if (four_lanes) {
        atomfp::accumulate_products<4>(n, y, 1, w, width, out, width);
    } else {
        atomfp::accumulate_products<2>(n, y, 1, w, width, out, width);
    }
}

// exp_of_nonpositive in a loop the compiler may turn into vector code, as the library's are.
TEST_CLONES void exponentials(int64_t n, const double* x, double* out) {
    for (int64_t i = 0; i < n; ++i) out[i] = atomfp::exp_of_nonpositive(x[i]);
}

}  // namespace

TEST(Toolchain, ExponentialOfNonpositiveArgumentsAgreesWithTheLibraryExp) {
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> wide(-707.9, 0.0), narrow(-2.0, 0.0);
    std::vector<double> x;
    for (int i = 0; i < 200000; ++i) x.push_back(i % 2 ? wide(rng) : narrow(rng));
    for (double special : {0.0, -0.0, -1e-300, -1e-17, -0.5 * 0.6931471805599453, -0.6931471805599453, -1.0, -700.0})
        x.push_back(special);
    std::vector<double> y(x.size());
    exponentials(static_cast<int64_t>(x.size()), x.data(), y.data());
    double worst = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double expected = std::exp(x[i]);
        worst = std::max(worst, std::abs(y[i] - expected) / expected);
    }
    EXPECT_LE(worst, 3 * 2.220446049250313e-16);
    EXPECT_EQ(atomfp::exp_of_nonpositive(0.0), 1.0);
    // Below -708 the result is 0 rather than a subnormal number.
    const double far[4] = {-708.5, -745.2, -1e6, -HUGE_VAL};
    double out[4] = {1, 1, 1, 1};
    exponentials(4, far, out);
    for (double v : out) EXPECT_EQ(v, 0.0);
}

TEST(Toolchain, VectorLiteralsKeepTheirValues) {
    const std::vector<double> v = occupations();
    ASSERT_EQ(v.size(), 8u);
    for (int k = 0; k < 8; ++k) EXPECT_EQ(v[k], k < 4 ? 1.0 : 0.0) << "element " << k;
}

TEST(Toolchain, DispatchedCopiesKeepLiterals) {
    const std::vector<double> v = occupations_dispatched();
    ASSERT_EQ(v.size(), 8u);
    for (int k = 0; k < 8; ++k) EXPECT_EQ(v[k], k < 4 ? 1.0 : 0.0) << "element " << k << " (" << atomfp::simd_kernels() << ")";
}

// Each column is summed over j in the same order by every width, so the results agree bit for bit
// with the scalar loop: the AVX2 and baseline copies of a kernel give identical descriptors.
TEST(Toolchain, VectorKernelsEqualTheScalarLoopBitwise) {
    std::mt19937 generator(7);
    std::normal_distribution<double> normal;
    for (int width : {1, 2, 3, 4, 7, 8, 9, 13, 16, 24}) {
        const int64_t n = 37;
        std::vector<double> y(n), w(n * width);
        for (double& x : y) x = normal(generator);
        for (double& x : w) x = normal(generator);
        std::vector<double> expected(width, 0.5), two(width, 0.5), four(width, 0.5);
        for (int k = 0; k < width; ++k) {
            double s = 0.0;
            for (int64_t j = 0; j < n; ++j) s += y[j] * w[j * width + k];
            expected[k] += s;
        }
        products(false, n, y.data(), w.data(), width, two.data());
        products(true, n, y.data(), w.data(), width, four.data());
        EXPECT_EQ(std::memcmp(two.data(), expected.data(), width * sizeof(double)), 0) << "two lanes, width " << width;
        EXPECT_EQ(std::memcmp(four.data(), expected.data(), width * sizeof(double)), 0) << "four lanes, width " << width;
    }
}

TEST(Toolchain, ReportsTheSelectedKernels) {
    const std::string kernels = atomfp::simd_kernels();
    EXPECT_TRUE(kernels == "avx2" || kernels.rfind("baseline", 0) == 0) << kernels;
    EXPECT_EQ(atomfp::avx2_kernels_selected(), kernels == "avx2");
}
