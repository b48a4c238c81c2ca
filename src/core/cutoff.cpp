#include "core/cutoff.hpp"

#include "core/error.hpp"

namespace atomfp {

const std::vector<std::string>& CutoffFunction::names() {
    // Order matches Kind.
    static const std::vector<std::string> list = {"cosine", "tanh", "exp", "poly1", "poly2", "poly3", "poly4"};
    return list;
}

CutoffFunction::Kind CutoffFunction::kind_from_name(const std::string& name) {
    const auto& list = names();
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i] == name) return static_cast<Kind>(i);
    }
    fail(Status::json_error, "unknown cutoff function \"", name, "\"");
}

const std::string& CutoffFunction::name() const { return names()[static_cast<std::size_t>(kind_)]; }

CutoffFunction::CutoffFunction(Kind kind, double cutoff, double inner_fraction)
    : kind_(kind), cutoff_(cutoff), inner_fraction_(inner_fraction) {
    if (!(cutoff > 0.0) || !std::isfinite(cutoff)) fail(Status::invalid_argument, "cutoff must be positive and finite, got ", cutoff);
    if (!(inner_fraction >= 0.0 && inner_fraction < 1.0)) {
        fail(Status::invalid_argument, "inner cutoff fraction must lie in [0, 1), got ", inner_fraction);
    }
    inner_ = inner_fraction * cutoff;
    inverse_width_ = 1.0 / (cutoff - inner_);
}

}  // namespace atomfp
