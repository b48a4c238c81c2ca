#include "core/special_functions.hpp"

#include "core/error.hpp"

#include <cmath>
#include <limits>

namespace atomfp {

double log_kummer_m(double alpha, double beta, double z) {
    if (z == 0.0) return 0.0;
    const double log_z = std::log(z);
    return log_positive_series(
        [&](long j) { return (alpha + j) * z / ((beta + j) * (j + 1.0)); },
        [&](long j) {
            return std::lgamma(alpha + j) - std::lgamma(alpha) - std::lgamma(beta + j) + std::lgamma(beta) -
                   std::lgamma(j + 1.0) + j * log_z;
        });
}

double log_hypergeometric_0f1(double beta, double z) {
    if (z == 0.0) return 0.0;
    const double log_z = std::log(z);
    return log_positive_series(
        [&](long j) { return z / ((beta + j) * (j + 1.0)); },
        [&](long j) { return j * log_z - std::lgamma(j + 1.0) - std::lgamma(beta + j) + std::lgamma(beta); });
}

namespace {

const double log_sqrt_pi_over_4 = 0.5 * std::log(M_PI) - std::log(4.0);

// log of sqrt(pi)/4 p^(-alpha) Gamma(alpha)/Gamma(beta) e^{-a x^2} 1F1(alpha; beta; a^2 x^2 / p): the
// closed form of int_0^inf r^(mu-1) e^{-p r^2} i_l(c r) dr without its (a x)^l factor, where
// alpha = (mu + l)/2 and beta = l + 3/2.
double log_gaussian_bessel_core(double alpha, double beta, double a, double p, double x) {
    return log_sqrt_pi_over_4 - alpha * std::log(p) + std::lgamma(alpha) - std::lgamma(beta) - a * x * x +
           log_kummer_m(alpha, beta, a * a * x * x / p);
}

}  // namespace

void gaussian_bessel_integral(int k, int l, double a, double b, double x, double& value, double& derivative) {
    const double p = a + b;
    const double alpha = 0.5 * (k + l + 3), beta = l + 1.5;
    const double ax = a * x;
    const double log_core = log_gaussian_bessel_core(alpha, beta, a, p, x);
    // d/dx [(a x)^l core] = l a (a x)^(l-1) core - 2 a x (a x)^l core
    //                       + (a x)^l (...) Gamma(alpha+1)/Gamma(beta+1) 1F1(alpha+1; beta+1; z) 2 a^2 x / p
    if (x == 0.0) {
        value = l == 0 ? std::exp(log_core) : 0.0;
        derivative = l == 1 ? a * std::exp(log_core) : 0.0;
        return;
    }
    const double log_ax = std::log(ax);
    value = std::exp(l * log_ax + log_core);
    const double shifted = std::exp(l * log_ax + log_gaussian_bessel_core(alpha + 1.0, beta + 1.0, a, p, x) +
                                    std::log(p));  // the core of alpha+1 carries one extra 1/p
    const double lower = l > 0 ? l * a * std::exp((l - 1) * log_ax + log_core) : 0.0;
    derivative = lower - 2.0 * ax * value + shifted * 2.0 * a * a * x / p;
}

void scaled_bessel_product(int l, double a, double r, double x, double& value, double& derivative) {
    // i_l(z) = sqrt(pi)/2 (z/2)^l / Gamma(l + 3/2) 0F1(; l + 3/2; z^2/4), z = 2 a r x, so
    // e^{-a(r^2+x^2)} i_l(z) = (a r x)^l * exp(log_rest) and
    // d/dx = l a r (a r x)^(l-1) rest - 2 a x value + 2 a r e^{..} i_l'(z)|_{i_{l+1} part}.
    auto log_rest = [&](int order) {
        const double z = 2.0 * a * r * x;
        return 0.5 * std::log(M_PI) - std::log(2.0) - std::lgamma(order + 1.5) - a * (r * r + x * x) +
               log_hypergeometric_0f1(order + 1.5, 0.25 * z * z);
    };
    const double arx = a * r * x;
    const double rest = std::exp(log_rest(l));
    if (arx == 0.0) {
        value = l == 0 ? rest : 0.0;
        derivative = l == 1 ? a * r * rest : 0.0;
        if (l == 0) derivative = -2.0 * a * x * value;
        return;
    }
    const double log_arx = std::log(arx);
    value = std::exp(l * log_arx + std::log(rest));
    // i_l'(z) = i_{l+1}(z) + (l/z) i_l(z); the (l/z) i_l part gives the l a r (a r x)^(l-1) term.
    const double next = std::exp((l + 1) * log_arx + log_rest(l + 1));
    const double lower = l > 0 ? l * a * r * std::exp((l - 1) * log_arx + log_rest(l)) : 0.0;
    derivative = lower - 2.0 * a * x * value + 2.0 * a * r * next;
}

void gauss_legendre(int n, double lower, double upper, std::vector<double>& nodes, std::vector<double>& weights) {
    nodes.assign(n, 0.0);
    weights.assign(n, 0.0);
    const double half = 0.5 * (upper - lower), mid = 0.5 * (upper + lower);
    for (int i = 0; i < (n + 1) / 2; ++i) {
        double t = std::cos(M_PI * (i + 0.75) / (n + 0.5));
        double dp = 1.0;
        for (int iteration = 0; iteration < 100; ++iteration) {
            double p0 = 1.0, p1 = t;
            for (int k = 2; k <= n; ++k) {
                const double p2 = ((2.0 * k - 1.0) * t * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            if (n == 1) p0 = 1.0;
            dp = n * (t * p1 - p0) / (t * t - 1.0);
            const double step = p1 / dp;
            t -= step;
            if (std::abs(step) < 1e-16) break;
        }
        const double w = 2.0 / ((1.0 - t * t) * dp * dp);
        nodes[i] = mid - half * t;
        nodes[n - 1 - i] = mid + half * t;
        weights[i] = weights[n - 1 - i] = half * w;
    }
}

std::vector<long double> inverse_sqrt_spd(const std::vector<long double>& matrix, int n) {
    std::vector<long double> a = matrix, v(static_cast<std::size_t>(n) * n, 0.0L);
    for (int i = 0; i < n; ++i) v[i * n + i] = 1.0L;
    for (int sweep = 0; sweep < 100; ++sweep) {
        long double off = 0.0L, diagonal = 0.0L;
        for (int i = 0; i < n; ++i) {
            diagonal += a[i * n + i] * a[i * n + i];
            for (int j = i + 1; j < n; ++j) off += a[i * n + j] * a[i * n + j];
        }
        if (off <= std::numeric_limits<long double>::epsilon() * std::numeric_limits<long double>::epsilon() * diagonal * 1e-4L) break;
        for (int p = 0; p < n; ++p) {
            for (int q = p + 1; q < n; ++q) {
                const long double apq = a[p * n + q];
                if (apq == 0.0L) continue;
                const long double theta = (a[q * n + q] - a[p * n + p]) / (2.0L * apq);
                const long double t = (theta >= 0 ? 1.0L : -1.0L) / (std::fabs(theta) + std::sqrt(theta * theta + 1.0L));
                const long double c = 1.0L / std::sqrt(t * t + 1.0L), s = t * c;
                for (int k = 0; k < n; ++k) {
                    const long double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; ++k) {
                    const long double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; ++k) {
                    const long double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    std::vector<long double> result(static_cast<std::size_t>(n) * n, 0.0L);
    for (int k = 0; k < n; ++k) {
        const long double lambda = a[k * n + k];
        if (!(lambda > 0.0L)) fail(Status::linalg, "overlap matrix is not positive definite (eigenvalue ", static_cast<double>(lambda), ")");
        const long double scale = 1.0L / std::sqrt(lambda);
        for (int i = 0; i < n; ++i) {
            for (int j = 0; j < n; ++j) result[i * n + j] += v[i * n + k] * scale * v[j * n + k];
        }
    }
    return result;
}

}  // namespace atomfp
