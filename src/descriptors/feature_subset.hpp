// A chosen subset of another descriptor's features, e.g. the result of a CUR selection:
//   {"type": "feature_subset", "descriptor": {...}, "features": [3, 17, 42]}
// Features and gradients are the wrapped descriptor's, restricted to the listed indices in order.
#pragma once

#include "descriptors/descriptor.hpp"

#include <memory>
#include <vector>

namespace atomfp {

class FeatureSubset : public Descriptor {
public:
    explicit FeatureSubset(const json& spec);

    std::string type() const override { return "feature_subset"; }
    int64_t feature_count() const override { return static_cast<int64_t>(features_.size()); }
    double cutoff() const override { return inner_->cutoff(); }
    json parameters() const override;
    std::string feature_label(int64_t index) const override { return inner_->feature_label(features_.at(index)); }
    bool handles_species(int32_t atomic_number) const override { return inner_->handles_species(atomic_number); }
    std::unique_ptr<Workspace> make_workspace() const override;
    void check_environment(const Environment& environment) const override { inner_->check_environment(environment); }
    void compute_environment(const Environment& environment, double* features, double* neighbour_gradients,
                             Workspace& workspace) const override;

private:
    std::unique_ptr<Descriptor> inner_;
    std::vector<int64_t> features_;
};

}  // namespace atomfp
