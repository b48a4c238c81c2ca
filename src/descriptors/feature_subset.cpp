#include "descriptors/feature_subset.hpp"

#include "core/error.hpp"
#include "core/json_spec.hpp"
#include "descriptors/factory.hpp"

#include <algorithm>

namespace atomfp {

namespace {

struct SubsetWorkspace : Descriptor::Workspace {
    std::unique_ptr<Descriptor::Workspace> inner;
    std::vector<double> features, gradients;  // the wrapped descriptor's, for one centre
};

}  // namespace

FeatureSubset::FeatureSubset(const json& spec) {
    SpecReader reader(spec, "feature_subset");
    reader.string("type", std::nullopt, {"feature_subset"});
    const json& inner = reader.value("descriptor");
    if (inner.is_object() && inner.value("type", json()) == "feature_subset") {
        fail(Status::json_error, "key 'feature_subset.descriptor' is itself a feature_subset: select the features of "
                                 "the inner descriptor directly");
    }
    inner_ = create_descriptor_from_spec(inner);
    features_ = reader.integer_list("features", 0, inner_->feature_count() - 1);
    if (features_.empty()) fail(Status::json_error, "key 'features' of a feature_subset must list at least one feature");
    reader.finish();
}

json FeatureSubset::parameters() const {
    return {{"type", "feature_subset"}, {"descriptor", inner_->parameters()}, {"features", features_}};
}

std::unique_ptr<Descriptor::Workspace> FeatureSubset::make_workspace() const {
    auto workspace = std::make_unique<SubsetWorkspace>();
    workspace->inner = inner_->make_workspace();
    workspace->features.resize(static_cast<size_t>(inner_->feature_count()));
    return workspace;
}

void FeatureSubset::compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                                        Workspace& workspace) const {
    auto& w = static_cast<SubsetWorkspace&>(workspace);
    const int64_t n_inner = inner_->feature_count(), n = feature_count();
    double* inner_gradients = nullptr;
    if (neighbour_gradients) {
        int64_t slots = 0;
        for (int64_t s : environment.slots) slots = std::max(slots, s + 1);
        w.gradients.assign(static_cast<size_t>(slots * 3 * n_inner), 0.0);
        inner_gradients = w.gradients.data();
    }
    inner_->compute_environment(environment, w.features.data(), inner_gradients, *w.inner);
    for (int64_t f = 0; f < n; ++f) features[f] = w.features[features_[f]];
    if (!neighbour_gradients) return;
    for (int64_t s : environment.slots) {
        for (int k = 0; k < 3; ++k) {
            const double* from = &w.gradients[(s * 3 + k) * n_inner];
            double* to = &neighbour_gradients[(s * 3 + k) * n];
            for (int64_t f = 0; f < n; ++f) to[f] += from[features_[f]];
        }
    }
}

}  // namespace atomfp
