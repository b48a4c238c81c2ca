// Chebyshev symmetry functions against a brute-force implementation (T_n(x) = cos(n arccos x)),
// finite differences, invariances and the specification.
#include "checks.hpp"
#include "core/error.hpp"
#include "descriptors/chebyshev.hpp"
#include "descriptors/factory.hpp"
#include "structures.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace atomfp;
using namespace atomfp::test;

namespace {

double T(int n, double x) { return std::cos(n * std::acos(std::clamp(x, -1.0, 1.0))); }
double fc(double r, double rc) { return r < rc ? 0.5 * (std::cos(M_PI * r / rc) + 1.0) : 0.0; }


std::vector<double> brute(const Structure& s, const std::vector<int32_t>& species, double rr, int nr, double ra, int na,
                          int nm) {
    const std::vector<int> spins = chebyshev_type_spins(static_cast<int>(species.size()));
    auto spin = [&](int32_t z) { return spins[std::find(species.begin(), species.end(), z) - species.begin()]; };
    const int block = nr + 1 + na + 1 + (nm >= 0 ? (nm + 1) * (nm + 2) / 2 * (na + 1) : 0);
    const bool weighted = species.size() > 1;
    std::vector<double> out;
    for (int64_t i = 0; i < s.size(); ++i) {
        std::vector<double> f(block * (weighted ? 2 : 1), 0.0);
        auto add = [&](int index, double v, double w) {
            f[index] += v;
            if (weighted) f[block + index] += w * v;
        };
        for (const BruteNeighbour& j : brute_neighbours(s, i, rr))
            for (int a = 0; a <= nr; ++a) add(a, T(a, 2 * j.r / rr - 1) * fc(j.r, rr), spin(j.z));
        const std::vector<BruteNeighbour> env = brute_neighbours(s, i, ra);
        for (std::size_t j = 0; j < env.size(); ++j)
            for (std::size_t k = j + 1; k < env.size(); ++k) {
                const BruteNeighbour &x = env[j], &y = env[k];
                const double cosine = (x.d[0] * y.d[0] + x.d[1] * y.d[1] + x.d[2] * y.d[2]) / (x.r * y.r);
                const double w = fc(x.r, ra) * fc(y.r, ra), sw = spin(x.z) * spin(y.z);
                for (int g = 0; g <= na; ++g) add(nr + 1 + g, T(g, cosine) * w, sw);
                int p = 0;
                for (int a = 0; a <= nm; ++a)
                    for (int b = a; b <= nm; ++b, ++p) {
                        auto R = [&](int n, const BruteNeighbour& im) { return T(n, 2 * im.r / ra - 1) * fc(im.r, ra); };
                        const double P = a == b ? R(a, x) * R(a, y) : R(a, x) * R(b, y) + R(a, y) * R(b, x);
                        for (int g = 0; g <= na; ++g) add(nr + na + 2 + p * (na + 1) + g, P * T(g, cosine), sw);
                    }
            }
        out.insert(out.end(), f.begin(), f.end());
    }
    return out;
}

json spec(const std::vector<int32_t>& species, bool mixed) {
    json s = {{"type", "chebyshev"}, {"species", species}, {"radial_cutoff", 5.0}, {"radial_order", 7},
              {"angular_cutoff", 4.0}, {"angular_order", 4}, {"mixing", mixed ? "full" : "none"}};
    if (mixed) s["mixed_radial_order"] = 3;
    return s;
}

}  // namespace

TEST(Chebyshev, TypeSpinsAreCentredIntegers) {
    EXPECT_EQ(chebyshev_type_spins(1), std::vector<int>({0}));
    EXPECT_EQ(chebyshev_type_spins(2), std::vector<int>({-1, 1}));
    EXPECT_EQ(chebyshev_type_spins(3), std::vector<int>({-1, 0, 1}));
    EXPECT_EQ(chebyshev_type_spins(4), std::vector<int>({-2, -1, 1, 2}));
}

TEST(Chebyshev, MatchesBruteForceOnClusterAndCrystal) {
    Structure c = cluster({6, 1, 1, 6, 8, 1, 6, 1}, 4.5, 0.9, 3);
    Structure x = diamond(1, 5.431, 0.1, 4);
    x.species[2] = x.species[5] = 6;
    for (bool mixed : {false, true}) {
        ChebyshevDescriptor d1(spec({1, 6, 8}, mixed));
        expect_close_relative(features_of(d1, neighbour_list(c, d1.cutoff()).view()), brute(c, {1, 6, 8}, 5.0, 7, 4.0, 4, mixed ? 3 : -1), 1e-12);
        ChebyshevDescriptor d2(spec({6, 14}, mixed));
        expect_close_relative(features_of(d2, neighbour_list(x, d2.cutoff()).view()), brute(x, {6, 14}, 5.0, 7, 4.0, 4, mixed ? 3 : -1), 1e-12);
    }
}

TEST(Chebyshev, GradientsMatchFiniteDifferences) {
    Structure c = cluster({6, 1, 1, 6, 8, 1}, 4.0, 0.9, 8);
    Structure p = primitive_diamond(5.431, 0.12, 9);
    for (bool mixed : {false, true}) {
        ChebyshevDescriptor d1(spec({1, 6, 8}, mixed));
        check_finite_differences(d1, c.positions, neighbour_list(c, d1.cutoff()).view(), all_atoms(c.size()));
        ChebyshevDescriptor d2(spec({14}, mixed));
        check_finite_differences(d2, p.positions, neighbour_list(p, d2.cutoff()).view(), all_atoms(p.size()));
    }
}

TEST(Chebyshev, InvariantUnderRotationsInversionTranslationAndPermutation) {
    Structure s = diamond(1, 5.431, 0.2, 5);
    s.species[3] = s.species[6] = 6;
    std::array<double, 9> improper = random_rotation(11);
    for (double& v : improper) v = -v;
    for (bool mixed : {false, true}) {
        ChebyshevDescriptor d(spec({6, 14}, mixed));
        const auto reference = features_of(d, neighbour_list(s, d.cutoff()).view());
        expect_same_features(reference, features_of(d, neighbour_list(transformed(s, random_rotation(3)), d.cutoff()).view()));
        expect_same_features(reference, features_of(d, neighbour_list(transformed(s, improper), d.cutoff()).view()));
        Structure moved = s;
        for (double& v : moved.positions) v += 3.3;
        expect_same_features(reference, features_of(d, neighbour_list(moved, d.cutoff()).view()));
        std::vector<int64_t> order = all_atoms(s.size());
        std::swap(order[3], order[6]);
        expect_permutation_covariant(d, s, order, reference);
    }
}

TEST(Chebyshev, SpecificationLayoutAndErrors) {
    auto d = create_descriptor(R"({"type": "chebyshev", "species": [22]})");
    EXPECT_EQ(d->feature_count(), 17 + 5);  // aenet defaults: radial_N 16, angular_N 4
    EXPECT_EQ(d->cutoff(), 8.0);
    EXPECT_EQ(create_descriptor_from_spec(d->parameters())->parameters(), d->parameters());
    auto two = create_descriptor_from_spec(spec({1, 6}, true));
    EXPECT_EQ(two->feature_count(), 2 * (8 + 5 + 10 * 5));
    EXPECT_EQ(two->feature_label(0), "T_radial(0)");
    EXPECT_EQ(two->feature_label(8), "T_angular(0)");
    EXPECT_EQ(two->feature_label(13 + 5 + 2), "T_mixed(0,1;2)");
    EXPECT_EQ(two->feature_label(63 + 8), "spin-weighted T_angular(0)");
    EXPECT_EQ(create_descriptor_from_spec(two->parameters())->parameters(), two->parameters());
    for (const char* bad : {R"({"type": "chebyshev", "species": [1], "radial_order": -1})",
                            R"({"type": "chebyshev", "species": [1], "angular_cutoff": 0})",
                            R"({"type": "chebyshev", "species": [1], "mixing": "partial"})",
                            R"({"type": "chebyshev", "species": [1], "mixed_radial_order": 2})",
                            R"({"type": "chebyshev", "species": []})"}) {
        EXPECT_THROW(create_descriptor(bad), Error) << bad;
    }
}
