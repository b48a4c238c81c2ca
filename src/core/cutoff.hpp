// Smooth radial cutoff functions f_c(r) with f_c = 1 below the inner radius r_ci = alpha * r_c,
// f_c = 0 for r >= r_c, and a smooth switch in between (n2p2 conventions). Every kind has a
// vanishing value and first derivative at r_c, so an atom crossing the cutoff changes nothing
// abruptly.
#pragma once

#include <cmath>
#include <string>
#include <vector>

namespace atomfp {

class CutoffFunction {
public:
    enum class Kind { cosine, tanh, exp, poly1, poly2, poly3, poly4 };

    CutoffFunction(Kind kind, double cutoff, double inner_fraction = 0.0);

    static Kind kind_from_name(const std::string& name);  // throws Error(json) for unknown names
    static const std::vector<std::string>& names();
    const std::string& name() const;

    Kind kind() const { return kind_; }
    double cutoff() const { return cutoff_; }
    double inner_fraction() const { return inner_fraction_; }

    // Value and derivative with respect to r.
    inline void evaluate(double r, double& f, double& df) const;
    inline double value(double r) const {
        double f, df;
        evaluate(r, f, df);
        return f;
    }

private:
    Kind kind_;
    double cutoff_;
    double inner_fraction_;
    double inner_;
    double inverse_width_;
};

inline void CutoffFunction::evaluate(double r, double& f, double& df) const {
    if (r >= cutoff_) {
        f = 0.0;
        df = 0.0;
        return;
    }
    if (kind_ == Kind::tanh) {
        // tanh^3(1 - r/r_c), scaled so that f(0) = 1; defined on the whole range, no inner radius.
        const double scale = 1.0 / (std::tanh(1.0) * std::tanh(1.0) * std::tanh(1.0));
        double t = std::tanh(1.0 - r / cutoff_);
        f = scale * t * t * t;
        df = -scale * 3.0 * t * t * (1.0 - t * t) / cutoff_;
        return;
    }
    if (r <= inner_) {
        f = 1.0;
        df = 0.0;
        return;
    }
    const double x = (r - inner_) * inverse_width_;
    double dfdx;
    switch (kind_) {
    case Kind::cosine: {
        const double pi = 3.14159265358979323846;
        f = 0.5 * (std::cos(pi * x) + 1.0);
        dfdx = -0.5 * pi * std::sin(pi * x);
        break;
    }
    case Kind::exp: {
        double d = 1.0 - x * x;
        f = std::exp(1.0 - 1.0 / d);
        dfdx = -2.0 * x * f / (d * d);
        break;
    }
    case Kind::poly1:
        f = (2.0 * x - 3.0) * x * x + 1.0;
        dfdx = 6.0 * x * (x - 1.0);
        break;
    case Kind::poly2:
        f = ((15.0 - 6.0 * x) * x - 10.0) * x * x * x + 1.0;
        dfdx = -30.0 * x * x * (x - 1.0) * (x - 1.0);
        break;
    case Kind::poly3: {
        f = (x * (x * (20.0 * x - 70.0) + 84.0) - 35.0) * x * x * x * x + 1.0;
        double xm = x - 1.0;
        dfdx = 140.0 * x * x * x * xm * xm * xm;
        break;
    }
    case Kind::poly4: {
        f = (x * (x * ((315.0 - 70.0 * x) * x - 540.0) + 420.0) - 126.0) * x * x * x * x * x + 1.0;
        double x2 = x * x, xm = x - 1.0, xm2 = xm * xm;
        dfdx = -630.0 * x2 * x2 * xm2 * xm2;
        break;
    }
    default:
        f = 0.0;
        dfdx = 0.0;
    }
    df = dfdx * inverse_width_;
}

}  // namespace atomfp
