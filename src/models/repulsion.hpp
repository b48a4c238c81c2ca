// A short-range core repulsion added to a model: the Ziegler–Biersack–Littmark universal screened
// Coulomb potential (Ziegler, Biersack & Littmark 1985), switched off smoothly between an inner and
// an outer distance per species pair. Training data rarely hold atoms closer than a bond length,
// so a kernel model is unconstrained there and MD can collapse atoms; this baseline keeps them
// apart. The trainer fits the kernel model to the labels minus the repulsion, so that the sum
// reproduces the data, and every host gets it through Model::predict.
#pragma once

#include "core/json_spec.hpp"
#include "core/system.hpp"

#include <map>
#include <utility>

namespace atomfp {

class CoreRepulsion {
public:
    // {"type": "zbl", "inner": 0.8, "outer": 1.4, "pairs": {"Si-C": {"inner": 1.0, "outer": 1.6}}}:
    // distances in Å, 0 < inner < outer <= max_outer; "pairs" overrides the global pair of
    // distances for the pairs it names. Throws Error(json_error) naming what is wrong.
    CoreRepulsion(const json& spec, double max_outer);

    json to_json() const { return spec_; }
    double max_outer() const;

    // The switched pair energy (eV) and its derivative d/dr (eV/Å) at separation r.
    void pair(int32_t zi, int32_t zj, double r, double& energy, double& derivative) const;

    // Adds half of every listed pair's energy to each centre's local energy (local [n_centers])
    // and, when contracted is not NULL, its derivatives to the centres' gradient blocks
    // (contracted [n_gradient_blocks][3], as the descriptors' contraction lays them out).
    void add(const SystemView& system, double* local, double* contracted) const;

private:
    struct Range {
        double inner = 0.0, outer = 0.0;
    };
    const Range& range_of(int32_t zi, int32_t zj) const;

    json spec_;
    Range global_;
    std::map<std::pair<int32_t, int32_t>, Range> pairs_;  // keys ordered (smaller Z first)
};

// The unswitched ZBL energy (eV) and d/dr at r (Å) for nuclear charges zi, zj.
void zbl_energy(int32_t zi, int32_t zj, double r, double& energy, double& derivative);

}  // namespace atomfp
