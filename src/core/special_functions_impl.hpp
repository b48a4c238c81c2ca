// Template definitions for special_functions.hpp.
#pragma once

#include <cmath>

namespace atomfp {

template <class Ratio, class LogTerm>
double log_positive_series(Ratio ratio, LogTerm log_term) {
    // Locate the largest term: the first j where the ratio drops to 1 or below.
    long lo = 0, hi = 1;
    while (ratio(hi) > 1.0) {
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > 1) {
        const long mid = (lo + hi) / 2;
        if (ratio(mid) > 1.0) lo = mid; else hi = mid;
    }
    const long peak = ratio(lo) > 1.0 ? hi : lo;
    const double eps = 1e-18;
    double sum = 1.0;  // terms relative to the peak
    double term = 1.0;
    for (long j = peak; j > 0; --j) {
        term /= ratio(j - 1);
        sum += term;
        if (term < eps * sum) break;
    }
    term = 1.0;
    for (long j = peak;; ++j) {
        term *= ratio(j);
        sum += term;
        if (term < eps * sum) break;
    }
    return log_term(peak) + std::log(sum);
}

}  // namespace atomfp
