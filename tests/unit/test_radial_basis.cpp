#include "core/special_functions.hpp"
#include "descriptors/radial_basis.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

using namespace atomfp;

namespace {

// Composite Gauss–Legendre quadrature of f on [lower, upper].
double integrate(const std::function<double(double)>& f, double lower, double upper, int panels = 200) {
    std::vector<double> t, w;
    gauss_legendre(20, 0.0, 1.0, t, w);
    double sum = 0.0;
    const double h = (upper - lower) / panels;
    for (int p = 0; p < panels; ++p) {
        for (std::size_t k = 0; k < t.size(); ++k) sum += h * w[k] * f(lower + h * (p + t[k]));
    }
    return sum;
}

// e^{-a(r^2+x^2)} i_l(2 a x r) through the integral representation i_l(z) = 1/2 int_{-1}^{1} e^{zt} P_l(t) dt,
// which never forms a large exponential: an independent route to the Bessel factor.
double bessel_factor(int l, double a, double r, double x) {
    return 0.5 * integrate([&](double t) { return std::exp(-a * (r * r + x * x - 2 * x * r * t)) * std::legendre(l, t); },
                           -1.0, 1.0, 40);
}

// I_nl(x) by direct quadrature of int r^2 R(r) e^{-a(r^2+x^2)} i_l(2axr) dr.
double quadrature_integral(const std::function<double(double)>& radial, int l, double a, double x, double upper) {
    return integrate([&](double r) { return r * r * radial(r) * bessel_factor(l, a, r, x); }, 0.0, upper, 60);
}

}  // namespace

TEST(RadialBasis, GtoIsOrthonormalUpToTwelveFunctions) {
    for (int n_max : {4, 8, 12}) {
        GtoRadialIntegral gto(n_max, 0, 5.0, 0.5);
        // Overlap of the contracted functions from the analytic primitive moments, in long double.
        double worst = 0.0;
        for (int n = 0; n < n_max; ++n) {
            for (int m = 0; m < n_max; ++m) {
                long double s = 0.0L;
                for (int i = 0; i < n_max; ++i) {
                    for (int j = 0; j < n_max; ++j) {
                        const long double b = static_cast<long double>(gto.exponent(i)) + gto.exponent(j);
                        const int power = 2 + i + j;
                        const long double moment = std::exp(std::lgamma(0.5L * (power + 1)) - 0.5L * (power + 1) * std::log(b)) / 2.0L;
                        s += gto.orthonormaliser_extended(n, i) * gto.orthonormaliser_extended(m, j) * moment;
                    }
                }
                worst = std::max(worst, static_cast<double>(std::fabs(s - (n == m ? 1.0L : 0.0L))));
            }
        }
        EXPECT_LT(worst, 1e-10) << "n_max = " << n_max;
    }
}

TEST(RadialBasis, GtoIntegralsMatchQuadrature) {
    const double rc = 5.0, sigma = 0.5, a = 0.5 / (sigma * sigma);
    const int n_max = 6, l_max = 8;
    GtoRadialIntegral gto(n_max, l_max, rc, sigma);
    std::vector<double> v(gto.n_functions()), d(gto.n_functions());
    for (double x : {0.0, 1.7, 4.9}) {
        gto.evaluate(x, v.data(), d.data());
        double scale = 0.0;
        for (double value : v) scale = std::max(scale, std::abs(value));
        for (int n : {0, 3, 5}) {
            auto radial = [&](double r) {
                double s = 0.0;
                for (int k = 0; k < n_max; ++k) s += gto.orthonormaliser(n, k) * std::pow(r, k) * std::exp(-gto.exponent(k) * r * r);
                return s;
            };
            for (int l : {0, 1, 4, 8}) {
                const double reference = quadrature_integral(radial, l, a, x, x + 12.0);
                EXPECT_NEAR(v[l * n_max + n], reference, 1e-10 * scale) << "n=" << n << " l=" << l << " x=" << x;
            }
        }
    }
}

TEST(RadialBasis, DvrIntegralsMatchQuadratureOfTheBesselFactor) {
    const double rc = 4.0, sigma = 0.4, a = 0.5 / (sigma * sigma);
    DvrRadialIntegral dvr(10, 6, rc, sigma);
    std::vector<double> v(dvr.n_functions()), d(dvr.n_functions());
    for (double x : {0.0, 0.8, 2.5, 3.9}) {
        dvr.evaluate(x, v.data(), d.data());
        for (int n = 0; n < 10; n += 3) {
            for (int l = 0; l <= 6; ++l) {
                const double r = dvr.node(n);
                const double reference = std::sqrt(dvr.weight(n)) * r * r * bessel_factor(l, a, r, x);
                EXPECT_NEAR(v[l * 10 + n], reference, 1e-10 * std::max(std::abs(reference), 1e-3 * std::sqrt(dvr.weight(n)) * r * r))
                    << "n=" << n << " l=" << l << " x=" << x;
            }
        }
    }
}

TEST(RadialBasis, DerivativesMatchFiniteDifferences) {
    GtoRadialIntegral gto(8, 6, 5.0, 0.5);
    DvrRadialIntegral dvr(8, 6, 5.0, 0.5);
    for (const RadialIntegral* basis : {static_cast<const RadialIntegral*>(&gto), static_cast<const RadialIntegral*>(&dvr)}) {
        const int f = basis->n_functions();
        std::vector<double> v(f), d(f), vp(f), vm(f), scratch(f);
        for (double x : {1e-3, 0.5, 2.0, 4.5}) {
            const double h = 1e-5;
            basis->evaluate(x, v.data(), d.data());
            basis->evaluate(x + h, vp.data(), scratch.data());
            basis->evaluate(x - h, vm.data(), scratch.data());
            for (int k = 0; k < f; ++k) EXPECT_NEAR(d[k], (vp[k] - vm[k]) / (2 * h), 1e-7) << k << " x=" << x;
        }
    }
}

TEST(RadialBasis, LargeArgumentsStayFinite) {
    // Sharp Gaussians and long cutoffs: the Kummer and Bessel series grow like e^{1000}.
    GtoRadialIntegral gto(8, 20, 8.0, 0.1);
    DvrRadialIntegral dvr(8, 20, 8.0, 0.1);
    std::vector<double> v(gto.n_functions()), d(gto.n_functions());
    for (const RadialIntegral* basis : {static_cast<const RadialIntegral*>(&gto), static_cast<const RadialIntegral*>(&dvr)}) {
        basis->evaluate(7.9, v.data(), d.data());
        for (int k = 0; k < basis->n_functions(); ++k) {
            EXPECT_TRUE(std::isfinite(v[k]) && std::isfinite(d[k])) << k;
        }
    }
}

TEST(RadialBasis, SplinesMeetTheirAccuracyEverywhere) {
    GtoRadialIntegral gto(8, 6, 5.0, 0.5);
    for (double accuracy : {1e-6, 1e-8, 1e-10}) {
        RadialSpline spline(gto, 5.0, accuracy);
        const int f = spline.n_functions();
        std::vector<double> exact(f), exact_d(f), v(f), d(f);
        double worst = 0.0, worst_derivative = 0.0;
        for (int i = 0; i <= 1000; ++i) {
            const double x = 5.0 * i / 1000.0 * 0.999999;
            gto.evaluate(x, exact.data(), exact_d.data());
            spline.evaluate(x, v.data(), d.data());
            for (int k = 0; k < f; ++k) {
                worst = std::max(worst, std::abs(v[k] - exact[k]));
                worst_derivative = std::max(worst_derivative, std::abs(d[k] - exact_d[k]));
            }
        }
        // Midpoints are where a cubic Hermite interpolant is worst; allow a little for off-midpoint maxima.
        EXPECT_LE(worst, 1.1 * accuracy) << accuracy;
        EXPECT_LE(worst_derivative, 1e3 * accuracy) << accuracy;
    }
}

TEST(RadialBasis, IdentityContractionReproducesThePrimitive) {
    auto dvr = std::make_shared<DvrRadialIntegral>(6, 3, 4.0, 0.5);
    std::vector<std::vector<double>> identity(4, std::vector<double>(36, 0.0));
    for (auto& u : identity)
        for (int n = 0; n < 6; ++n) u[n * 6 + n] = 1.0;
    ContractedRadialIntegral contracted(dvr, identity, 6);
    std::vector<double> a(24), da(24), b(24), db(24);
    dvr->evaluate(1.3, a.data(), da.data());
    contracted.evaluate(1.3, b.data(), db.data());
    for (int k = 0; k < 24; ++k) {
        EXPECT_DOUBLE_EQ(a[k], b[k]);
        EXPECT_DOUBLE_EQ(da[k], db[k]);
    }
}

TEST(RadialBasis, ContractedIntegralsMatchQuadratureOfTheContractedFunctions) {
    const double rc = 4.5, sigma = 0.5, a = 0.5 / (sigma * sigma);
    const int n_primitive = 6, q_max = 2, l_max = 3;
    auto gto = std::make_shared<GtoRadialIntegral>(n_primitive, l_max, rc, sigma);
    std::vector<std::vector<double>> u(l_max + 1);
    for (int l = 0; l <= l_max; ++l)
        for (int k = 0; k < q_max * n_primitive; ++k) u[l].push_back(std::sin(1.3 * k + 0.7 * l));
    ContractedRadialIntegral contracted(gto, u, q_max);
    std::vector<double> v(contracted.n_functions()), d(contracted.n_functions());
    for (double x : {0.4, 2.9}) {
        contracted.evaluate(x, v.data(), d.data());
        double scale = 0.0;
        for (double value : v) scale = std::max(scale, std::abs(value));
        for (int q = 0; q < q_max; ++q) {
            for (int l : {0, 3}) {
                auto radial = [&](double r) {
                    double s = 0.0;
                    for (int n = 0; n < n_primitive; ++n)
                        for (int k = 0; k < n_primitive; ++k)
                            s += u[l][q * n_primitive + n] * gto->orthonormaliser(n, k) * std::pow(r, k) * std::exp(-gto->exponent(k) * r * r);
                    return s;
                };
                EXPECT_NEAR(v[l * q_max + q], quadrature_integral(radial, l, a, x, x + 12.0), 1e-10 * scale) << "q=" << q << " l=" << l;
            }
        }
    }
}
