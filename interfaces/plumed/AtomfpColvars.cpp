/* PLUMED collective variables computed by atomfp, as a runtime plugin (LOAD FILE=AtomfpColvars.so).
 * They talk to atomfp only through the public headers: the C++11 wrapper atomfp.hpp over atomfp.h
 * (handles freed by their owners, failures as atomfp::Error, turned into PLUMED errors here).
 * Written in C++11: PLUMED compiles plugins with its own flags.
 *
 *   ATOMFP_SPHERICAL_EXPANSION  sums over centres of density-expansion coefficients c_{a n l m}
 *                               (component c-K for feature K), or the vector norm
 *                               sqrt(sum_m (sum_i c^i_{a n l m})^2) (NORM_SPECIES, NORM_N, NORM_L)
 *   ATOMFP_SIMILARITY           mean kernel similarity (or fingerprint distance) of the selected
 *                               environments to reference environments from an extended XYZ file
 *   ATOMFP_UNCERTAINTY          the mean or soft maximum over the selected centres of a model's
 *                               posterior variance of their local energies (eV²)
 *
 * All give derivatives with respect to every atom and the box. Units: PLUMED's length unit is
 * converted to Å at the boundary.
 */
#include <atomfp.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/ActionRegister.h"
#include "core/Atoms.h"
#include "core/Colvar.h"
#include "core/PlumedMain.h"
#include "tools/Pbc.h"
#include "element_symbols.hpp"

namespace PLMD {
namespace atomfp_plumed {

// The selected centres of the requested atoms and their part of a neighbour list built by atomfp
// (periodic images as cell shifts).
class AtomfpColvarBase : public Colvar {
public:
    static void registerKeywords(Keywords& keys) {
        Colvar::registerKeywords(keys);
        keys.add("atoms", "ATOMS", "the atoms that make up the environments (all species)");
        keys.add("atoms", "CENTERS", "the centres whose environments are described (default: every atom of ATOMS)");
        keys.add("compulsory", "SPECIES", "atomic numbers: one for all atoms or one per atom of ATOMS");
    }

    explicit AtomfpColvarBase(const ActionOptions& options) : PLUMED_COLVAR_INIT(options) {
        std::vector<AtomNumber> atoms, centers;
        parseAtomList("ATOMS", atoms);
        parseAtomList("CENTERS", centers);
        if (atoms.empty()) error("ATOMS is empty");
        std::vector<int> species;
        parseVector("SPECIES", species);
        if (species.size() == 1) species.assign(atoms.size(), species[0]);
        if (species.size() != atoms.size()) error("SPECIES needs one atomic number or one per atom of ATOMS");
        species_.assign(species.begin(), species.end());
        if (centers.empty()) centers = atoms;
        for (size_t c = 0; c < centers.size(); ++c) {
            size_t k = 0;
            while (k < atoms.size() && atoms[k].index() != centers[c].index()) ++k;
            if (k == atoms.size()) error("every atom of CENTERS must be in ATOMS");
            centers_.push_back(static_cast<int64_t>(k));
        }
        log.printf("  %zu atoms, %zu centres\n", atoms.size(), centers_.size());
        atoms_ = atoms;
    }

protected:
    // Called by each action once its values exist: requestAtoms sizes the derivative arrays of the
    // values and components present at that moment only.
    void request_atoms() { requestAtoms(atoms_); }

    static std::string read_file(const std::string& path) {
        std::ifstream file(path.c_str());
        std::stringstream text;
        text << file.rdbuf();
        return text.str();
    }

    // Å per PLUMED length unit
    double angstrom_per_unit() { return plumed.getAtoms().getUnits().getLength() * 10.0; }

    // Sets subset_ to the selected centres' part of the list for the current positions (in Å).
    void build_subset(double cutoff) {
        const double scale = angstrom_per_unit();
        const int64_t n = static_cast<int64_t>(getNumberOfAtoms());
        positions_.resize(3 * n);
        for (int64_t i = 0; i < n; ++i)
            for (int k = 0; k < 3; ++k) positions_[3 * i + k] = getPosition(i)[k] * scale;
        periodic_ = getPbc().isSet();
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) cell_[3 * i + j] = getBox()(i, j) * scale;

        try {
            // The selected centres' part of atomfp's full list; it points into positions_, species_
            // and cell_, which the list copied.
            const atomfp::NeighbourList list(n, positions_.data(), species_.data(), periodic_ ? cell_ : NULL, NULL, cutoff);
            atomfp_system_t full = list.system();
            full.positions = positions_.data();
            full.species = species_.data();
            full.cell = periodic_ ? cell_ : NULL;
            subset_ = atomfp::CentreSubset(full, centers_);
        } catch (const atomfp::Error& failure) {
            error(std::string("atomfp: ") + failure.what());
        }
    }

    // Box derivatives from W = -sum over pairs r_ij (x) dS/dr_ij (atomfp's virial convention): PLUMED's.
    void set_box_derivatives(Value* value, const Tensor& box) {
        if (periodic_) {
            setBoxDerivatives(value, box);
        } else {
            setBoxDerivativesNoPbc(value);
        }
    }

    std::vector<AtomNumber> atoms_;
    std::vector<int32_t> species_;
    std::vector<int64_t> centers_;
    atomfp::CentreSubset subset_;  // the centres' part of the current neighbour list
    std::vector<double> positions_;
    double cell_[9];
    bool periodic_ = false;
};

// Features and their gradients for the selected centres, from a descriptor specification.
class DescriptorColvar : public AtomfpColvarBase {
public:
    static void registerKeywords(Keywords& keys) {
        AtomfpColvarBase::registerKeywords(keys);
        keys.add("compulsory", "SPEC_FILE", "a JSON file with the atomfp descriptor specification");
    }

    explicit DescriptorColvar(const ActionOptions& options) : Action(options), AtomfpColvarBase(options) {
        std::string spec_file;
        parse("SPEC_FILE", spec_file);
        try {
            descriptor_.reset(new atomfp::Descriptor(read_file(spec_file)));
            n_features_ = descriptor_->feature_count();
            cutoff_ = descriptor_->cutoff();
        } catch (const atomfp::Error& failure) {
            error("atomfp: descriptor from " + spec_file + ": " + failure.what());
        }
        log.printf("  atomfp descriptor from %s: %lld features, cutoff %g A\n", spec_file.c_str(),
                   static_cast<long long>(n_features_), cutoff_);
    }

protected:
    // Fills features_ [n_centers][n_features] and gradients_ [blocks][3][n_features] for the
    // current positions.
    void evaluate() {
        build_subset(cutoff_);
        try {
            descriptor_->compute(subset_.system(), features_, gradients_);
        } catch (const atomfp::Error& failure) {
            error(std::string("atomfp: ") + failure.what());
        }
    }

    // Adds dS/dx for S with dS/dF = weights [n_centers][n_features], and the box derivative
    // -sum over pairs r_ij (x) dS/dr_ij (the centre blocks carry no separation).
    void add_derivatives(Value* value, const std::vector<double>& weights) {
        const double scale = angstrom_per_unit();
        const int64_t nf = n_features_;
        Tensor box;
        const atomfp_system_t system = subset_.system();
        const int64_t* offsets = system.offsets;
        for (size_t c = 0; c < centers_.size(); ++c) {
            const double* w = &weights[c * nf];
            const int64_t first_block = static_cast<int64_t>(c) + offsets[c];
            const int64_t n_blocks = 1 + offsets[c + 1] - offsets[c];
            for (int64_t b = 0; b < n_blocks; ++b) {
                const double* g = &gradients_[(first_block + b) * 3 * nf];
                Vector derivative;
                for (int k = 0; k < 3; ++k) {
                    double sum = 0;
                    for (int64_t f = 0; f < nf; ++f) sum += w[f] * g[k * nf + f];
                    derivative[k] = sum;
                }
                const int64_t atom = b == 0 ? centers_[c] : system.neighbours[offsets[c] + b - 1];
                setAtomsDerivatives(value, static_cast<int>(atom), derivative * scale);
                if (b > 0 && periodic_) {
                    const int64_t p = offsets[c] + b - 1;
                    Vector r;
                    for (int k = 0; k < 3; ++k) {
                        r[k] = positions_[3 * atom + k] - positions_[3 * centers_[c] + k];
                        for (int a = 0; a < 3; ++a) r[k] += system.cell_shifts[3 * p + a] * cell_[3 * a + k];
                    }
                    box -= Tensor(r, derivative);
                }
            }
        }
        set_box_derivatives(value, box);
    }

    std::unique_ptr<const atomfp::Descriptor> descriptor_;
    std::vector<double> features_, gradients_;
    int64_t n_features_ = 0;
    double cutoff_ = 0;
};

class SphericalExpansion : public DescriptorColvar {
public:
    static void registerKeywords(Keywords& keys) {
        DescriptorColvar::registerKeywords(keys);
        keys.add("optional", "COEFFICIENTS", "0-based feature indices: component c-K is the sum over centres of feature K");
        keys.add("optional", "NORM_SPECIES", "with NORM_N and NORM_L: the norm of the centre-summed coefficients of this "
                                             "neighbour species (atomic number)");
        keys.add("optional", "NORM_N", "radial index n of the norm");
        keys.add("optional", "NORM_L", "angular index l of the norm");
        keys.addOutputComponent("c", "COEFFICIENTS", "c-K: the sum over centres of feature K");
    }

    explicit SphericalExpansion(const ActionOptions& options) : Action(options), DescriptorColvar(options) {
        parseVector("COEFFICIENTS", coefficients_);
        int norm_species = 0, norm_n = -1, norm_l = -1;
        parse("NORM_SPECIES", norm_species);
        parse("NORM_N", norm_n);
        parse("NORM_L", norm_l);
        checkRead();
        const bool norm = norm_species > 0;
        if (norm == !coefficients_.empty()) error("give either COEFFICIENTS or NORM_SPECIES, NORM_N and NORM_L");
        if (norm) {
            select_norm_features(norm_species, norm_n, norm_l);
            addValueWithDerivatives();
            setNotPeriodic();
        } else {
            for (size_t k = 0; k < coefficients_.size(); ++k) {
                if (coefficients_[k] < 0 || coefficients_[k] >= n_features_) error("COEFFICIENTS out of range");
                std::ostringstream name;
                name << "c-" << coefficients_[k];
                addComponentWithDerivatives(name.str());
                componentIsNotPeriodic(name.str());
            }
        }
        request_atoms();
    }

    void calculate() override {
        evaluate();
        const size_t nc = centers_.size();
        std::vector<double> weights(nc * n_features_);
        if (!norm_features_.empty()) {
            // S = sqrt(sum_m V_m^2), V_m = sum_i c^i_m: dS/dc^i_m = V_m / S
            std::vector<double> v(norm_features_.size(), 0.0);
            for (size_t m = 0; m < norm_features_.size(); ++m)
                for (size_t c = 0; c < nc; ++c) v[m] += features_[c * n_features_ + norm_features_[m]];
            double s = 0;
            for (size_t m = 0; m < v.size(); ++m) s += v[m] * v[m];
            s = std::sqrt(s);
            for (size_t m = 0; m < v.size(); ++m)
                for (size_t c = 0; c < nc; ++c) weights[c * n_features_ + norm_features_[m]] = s > 0 ? v[m] / s : 0;
            setValue(s);
            add_derivatives(getPntrToValue(), weights);
            return;
        }
        for (size_t k = 0; k < coefficients_.size(); ++k) {
            double sum = 0;
            std::fill(weights.begin(), weights.end(), 0.0);
            for (size_t c = 0; c < nc; ++c) {
                sum += features_[c * n_features_ + coefficients_[k]];
                weights[c * n_features_ + coefficients_[k]] = 1;
            }
            Value* value = getPntrToComponent(static_cast<int>(k));
            value->set(sum);
            add_derivatives(value, weights);
        }
    }

private:
    // The features labelled c[<element>,n=<n>,l=<l>,m=...], m = -l..l.
    void select_norm_features(int z, int n, int l) {
        const std::string symbol = atomfp_interfaces::element_symbol(z);
        if (symbol.empty()) error("NORM_SPECIES must be an atomic number");
        std::ostringstream prefix;
        prefix << "c[" << symbol << ",n=" << n << ",l=" << l << ",m=";
        for (int64_t f = 0; f < n_features_; ++f) {
            if (descriptor_->feature_label(f).compare(0, prefix.str().size(), prefix.str()) == 0) norm_features_.push_back(f);
        }
        if (norm_features_.size() != static_cast<size_t>(2 * l + 1)) {
            error("the descriptor has no features " + prefix.str() + "...]: is it a spherical_expansion with that "
                  "species, n and l?");
        }
        log.printf("  norm of the centre-summed %s...] over %zu values of m\n", prefix.str().c_str(),
                   norm_features_.size());
    }

    std::vector<int64_t> coefficients_;
    std::vector<int64_t> norm_features_;
};

class Similarity : public DescriptorColvar {
public:
    static void registerKeywords(Keywords& keys) {
        DescriptorColvar::registerKeywords(keys);
        keys.add("compulsory", "REFERENCE", "extended XYZ file of reference structures");
        keys.add("optional", "REFERENCE_CENTERS", "1-based atom indices of the reference environments in every "
                                                  "reference frame (default: every atom)");
        keys.add("compulsory", "ZETA", "2", "exponent of the normalised polynomial kernel (k = (F.R / |F||R|)^ZETA)");
        keys.addFlag("DISTANCE", false, "the mean Euclidean fingerprint distance |F - R| instead of the kernel");
    }

    explicit Similarity(const ActionOptions& options) : Action(options), DescriptorColvar(options) {
        std::string reference;
        parse("REFERENCE", reference);
        std::vector<int> reference_centers;
        parseVector("REFERENCE_CENTERS", reference_centers);
        parse("ZETA", zeta_);
        parseFlag("DISTANCE", distance_);
        checkRead();
        read_references(reference, reference_centers);
        for (size_t r = 0; r < references_.size() / n_features_; ++r)
            reference_norms_.push_back(norm(&references_[r * n_features_], n_features_));
        log.printf("  %zu reference environments from %s; %s\n", references_.size() / n_features_, reference.c_str(),
                   distance_ ? "mean fingerprint distance" : "mean normalised polynomial kernel");
        addValueWithDerivatives();
        setNotPeriodic();
        request_atoms();
    }

    void calculate() override {
        evaluate();
        const size_t nc = centers_.size(), nr = references_.size() / n_features_, nf = n_features_;
        std::vector<double> weights(nc * nf, 0.0);
        double total = 0;
        for (size_t c = 0; c < nc; ++c) {
            const double* x = &features_[c * nf];
            double* w = &weights[c * nf];
            const double x_norm = norm(x, nf);
            for (size_t r = 0; r < nr; ++r) {
                const double* y = &references_[r * nf];
                if (distance_) {
                    double d = 0;
                    for (size_t f = 0; f < nf; ++f) d += (x[f] - y[f]) * (x[f] - y[f]);
                    d = std::sqrt(d);
                    total += d;
                    if (d > 0)
                        for (size_t f = 0; f < nf; ++f) w[f] += (x[f] - y[f]) / d;
                } else {
                    const double y_norm = reference_norms_[r];
                    double dot = 0;
                    for (size_t f = 0; f < nf; ++f) dot += x[f] * y[f];
                    const double u = dot / (x_norm * y_norm);
                    total += std::pow(u, zeta_);
                    const double dk_du = zeta_ * std::pow(u, zeta_ - 1);
                    for (size_t f = 0; f < nf; ++f)
                        w[f] += dk_du * (y[f] / (x_norm * y_norm) - u * x[f] / (x_norm * x_norm));
                }
            }
        }
        const double count = static_cast<double>(nc * nr);
        for (size_t k = 0; k < weights.size(); ++k) weights[k] /= count;
        setValue(total / count);
        add_derivatives(getPntrToValue(), weights);
    }

private:
    static double norm(const double* x, size_t n) {
        double s = 0;
        for (size_t k = 0; k < n; ++k) s += x[k] * x[k];
        return std::sqrt(s);
    }

    void read_references(const std::string& path, const std::vector<int>& centers) {
        try {
            const atomfp::Frames frames(path);
            for (int64_t index = 0; index < frames.size(); ++index) {
                const atomfp::FrameView frame = frames[index];
                const atomfp::NeighbourList list(frame.n_atoms, frame.positions, frame.species, frame.cell,
                                                 frame.cell ? frame.pbc : NULL, cutoff_);
                const std::vector<double> features = descriptor_->features(list.system());
                for (int64_t i = 0; i < frame.n_atoms; ++i) {
                    bool wanted = centers.empty();
                    for (size_t k = 0; k < centers.size(); ++k) wanted = wanted || centers[k] == i + 1;
                    if (wanted) references_.insert(references_.end(), &features[i * n_features_],
                                                   &features[(i + 1) * n_features_]);
                }
            }
        } catch (const atomfp::Error& failure) {
            error("atomfp: reference environments from " + path + ": " + failure.what());
        }
        if (references_.empty()) error("no reference environments in " + path);
    }

    std::vector<double> references_;      // [references][n_features]
    std::vector<double> reference_norms_;  // |R|, fixed for the run
    double zeta_ = 2;
    bool distance_ = false;
};

// The uncertainty of a model over the selected centres: U = mean_c v_c (REDUCE=MEAN) or the soft
// maximum U = (1/BETA) log(mean_c exp(BETA v_c)) (REDUCE=SOFTMAX), v_c the posterior variance of
// centre c's local energy in eV². dU/dv_c are the mean's or the softmax weights, and atomfp gives
// the derivatives of sum_c (dU/dv_c) v_c.
class Uncertainty : public AtomfpColvarBase {
public:
    static void registerKeywords(Keywords& keys) {
        AtomfpColvarBase::registerKeywords(keys);
        keys.add("compulsory", "MODEL", "an atomfp model file (.afp) that carries a posterior covariance");
        keys.add("compulsory", "REDUCE", "MEAN", "MEAN or SOFTMAX over the centres' variances");
        keys.add("optional", "BETA", "inverse temperature of SOFTMAX in 1/eV^2 (large: close to the maximum)");
    }

    explicit Uncertainty(const ActionOptions& options) : Action(options), AtomfpColvarBase(options) {
        std::string model_file, reduce;
        parse("MODEL", model_file);
        parse("REDUCE", reduce);
        parse("BETA", beta_);
        checkRead();
        if (reduce != "MEAN" && reduce != "SOFTMAX") error("REDUCE must be MEAN or SOFTMAX");
        softmax_ = reduce == "SOFTMAX";
        if (softmax_ != (beta_ > 0)) error("SOFTMAX needs a positive BETA, and BETA is for SOFTMAX only");
        try {
            model_.reset(new atomfp::Model(model_file));
        } catch (const atomfp::Error& failure) {
            error("atomfp: " + std::string(failure.what()));
        }
        log.printf("  posterior variance of the model %s (cutoff %g A), %s\n", model_file.c_str(), model_->cutoff(),
                   softmax_ ? "soft maximum over the centres" : "mean over the centres");
        addValueWithDerivatives();
        setNotPeriodic();
        request_atoms();
    }

    void calculate() override {
        build_subset(model_->cutoff());
        const atomfp_system_t system = subset_.system();
        const size_t nc = centers_.size();
        std::vector<double> variances(nc), weights(nc), gradient(3 * system.n_atoms);
        double virial[9];
        try {
            model_->predict_variance(system, &variances[0], NULL);
            double value = 0;
            if (softmax_) {
                // shifted by the largest, so that no exponential overflows
                double largest = variances[0], sum = 0;
                for (size_t c = 1; c < nc; ++c) largest = std::max(largest, variances[c]);
                for (size_t c = 0; c < nc; ++c) sum += weights[c] = std::exp(beta_ * (variances[c] - largest));
                for (size_t c = 0; c < nc; ++c) weights[c] /= sum;
                value = largest + std::log(sum / static_cast<double>(nc)) / beta_;
            } else {
                for (size_t c = 0; c < nc; ++c) {
                    weights[c] = 1.0 / static_cast<double>(nc);
                    value += variances[c] * weights[c];
                }
            }
            model_->variance_gradient(system, &weights[0], &gradient[0], virial);
            setValue(value);
        } catch (const atomfp::Error& failure) {
            error(std::string("atomfp: ") + failure.what());
        }
        const double scale = angstrom_per_unit();
        Value* value = getPntrToValue();
        for (int64_t i = 0; i < system.n_atoms; ++i) {
            setAtomsDerivatives(value, static_cast<int>(i), Vector(gradient[3 * i], gradient[3 * i + 1], gradient[3 * i + 2]) * scale);
        }
        set_box_derivatives(value, Tensor(virial[0], virial[1], virial[2], virial[3], virial[4], virial[5], virial[6],
                                          virial[7], virial[8]));
    }

private:
    std::unique_ptr<const atomfp::Model> model_;
    bool softmax_ = false;
    double beta_ = 0;
};

PLUMED_REGISTER_ACTION(SphericalExpansion, "ATOMFP_SPHERICAL_EXPANSION")
PLUMED_REGISTER_ACTION(Uncertainty, "ATOMFP_UNCERTAINTY")
PLUMED_REGISTER_ACTION(Similarity, "ATOMFP_SIMILARITY")

}  // namespace atomfp_plumed
}  // namespace PLMD
