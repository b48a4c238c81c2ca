// Code generation checks, compiled with the library's flags: a build whose compiler miscompiles
// these (GCC 12 at -march=x86-64-v4 folds this literal into a broadcast of its first element) fails
// here instead of giving silently wrong descriptors.
#include <gtest/gtest.h>

#include <vector>

namespace {

__attribute__((noinline)) std::vector<double> occupations() { return std::vector<double>({1, 1, 1, 1, 0, 0, 0, 0}); }

}  // namespace

TEST(Toolchain, VectorLiteralsKeepTheirValues) {
    const std::vector<double> v = occupations();
    ASSERT_EQ(v.size(), 8u);
    for (int k = 0; k < 8; ++k) EXPECT_EQ(v[k], k < 4 ? 1.0 : 0.0) << "element " << k;
}
