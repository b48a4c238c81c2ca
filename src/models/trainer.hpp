// Sparse Gaussian-process regression (subset of regressors; Goscinski's thesis eqs 4.17-4.21) on
// structure energies, forces and virials: reference environments chosen per central species by
// farthest-point sampling, per-quantity regularisation, isolated-atom baselines, and the
// regularised least-squares problem solved by Householder QR, block by block (the conditioning of
// the design matrix, not of the normal equations).
#pragma once

#include "core/json_spec.hpp"
#include "core/neighbour_list.hpp"
#include "core/selection.hpp"
#include "io/extxyz.hpp"
#include "models/evaluation.hpp"
#include "models/model.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace atomfp {

enum class TrainingMethod {
    sparse_gpr,  // subset of regressors on energies, forces and virials (reference environments by FPS)
    krr          // full kernel ridge regression on structure energies: every environment a reference
};

// A structure's neighbour list and features, as training computes them.
struct Prepared {
    NeighbourList list;
    std::vector<double> features;  // [n_atoms][n_features]
};

// Neighbour lists and features of structures already seen, keyed by the descriptor's canonical
// specification and the structure's exact content, so that the folds of a cross-validation and
// the points of a scan compute each structure's features once. Thread-safe.
class FeatureCache {
public:
    std::shared_ptr<const Prepared> find(const std::string& descriptor_key, const Frame& frame) const;
    void store(const std::string& descriptor_key, const Frame& frame, std::shared_ptr<const Prepared> prepared);
    std::size_t size() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return entries_.size();
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const Prepared>> entries_;
};

// The regularisation of one structure's rows: the expected errors of its energy per atom (eV),
// force components (eV/Å) and virial per atom (eV).
struct Sigmas {
    double energy = 0.002, forces = 0.05, virial = 0.05;
};

struct TrainingSettings {
    TrainingMethod method = TrainingMethod::sparse_gpr;
    json descriptor;                      // a descriptor specification
    Kernel kernel;                        // default: polynomial, zeta 2
    int64_t sparse_per_species = 500;     // reference environments per central species (fewer if
                                          // the data has fewer)
    bool cur_selection = false;           // "selection": "cur" instead of the default "fps"
    double sigma_energy = 0.002;          // expected energy error per atom, eV (rows scaled by 1/(sigma sqrt N))
    double sigma_forces = 0.05;           // eV/Å
    double sigma_virial = 0.05;           // per atom, eV (rows scaled by 1/(sigma sqrt N))
    // Per config_type (the frame's "config_type" key): sigmas that replace the ones above for the
    // structures of that type, as GAP's config_type_sigma. A structure's own energy_sigma,
    // force_sigma and virial_sigma keys (GAP's names) replace both.
    std::map<std::string, Sigmas> config_type_sigmas;
    // Multiplies every sigma above (scans over a common scale); not set from JSON.
    double sigma_scale = 1.0;
    // Virials (or stresses, W = -V sigma) are fitted where a structure carries one when use_virials
    // is true; structures without one contribute energy and force rows only.
    bool use_energies = true, use_forces = true, use_virials = false;
    LabelKeys labels;                     // the property names of the labels in the training files
    // A core repulsion (CoreRepulsion's specification; null: none) added to the model: the kernel
    // part is fitted to the labels minus the repulsion's energies, forces and virials.
    json repulsion;
    std::map<int32_t, double> baselines;  // isolated-atom energies, eV; empty: fitted as baseline_fit says
    // How baselines are fitted when none are given. `average`: every species gets the mean energy per
    // atom of the data, and the kernel learns what distinguishes the species. `composition`: the
    // least-squares fit of the energies on the composition, which is ill-conditioned when the
    // compositions hardly vary (nearly stoichiometric data: ±70 eV per species on SiC data whose
    // Si:C ratio varies only through a few vacancies).
    enum class BaselineFit { average, composition } baseline_fit = BaselineFit::average;
    std::vector<int32_t> learned_species; // central species whose environments carry learned energies;
                                          // the others contribute only their baseline. Empty: all.
    // Called after each structure of the expensive stages ("features", "design rows") with the
    // structures done and their total (this process's slice); not set from JSON.
    std::function<void(const std::string& stage, int64_t done, int64_t total)> progress;
    // Features computed by earlier fits on the same structures (cross_validate and
    // scan_hyperparameters make one); not set from JSON.
    std::shared_ptr<FeatureCache> feature_cache;
    // The model's errors on its own training data, in the summary and the model's metadata; not set
    // from JSON (cross-validation folds turn it off: only their held-out errors are reported).
    bool training_errors = true;
    // Sparse GPR: keep the posterior covariance of the weights in the model (models/variance.hpp),
    // so that it predicts variances; costs M(M+1)/2 + Σ_s M_s(M_s+1)/2 numbers in the file.
    bool predictive_variance = true;
    double jitter = 1e-10;                // ridge jitter * mean diag(K_MM) added to the prior, so that a
                                          // singular K_MM (duplicate references) stays solvable

    // Keys: method ("sparse_gpr" or "krr"), descriptor (required), kernel, selection ("fps" or "cur"), sparse_per_species, sigma_energy, sigma_forces,
    // sigma_virial, config_type_sigma ({"liquid": {"sigma_forces": 0.3}}), use_energies, use_forces,
    // use_virials, energy_key, forces_key, stress_key, virial_key, repulsion, baselines ({"Si": -158.5} or
    // {"14": ...}, or "average" / "composition"), learned_species (["C"] or [6]), predictive_variance, jitter. Unknown keys are errors, and so is a sigma
    // of a quantity that is not fitted (it would silently do nothing).
    static TrainingSettings parse(const json& config);

    // Every setting that decides the fit (parse(to_json()) reproduces them), for the model's metadata.
    json to_json() const;

    Sigmas global_sigmas() const { return {sigma_energy, sigma_forces, sigma_virial}; }
    // The sigmas of structure `index`: its own keys, else its config_type's, else the global ones.
    // Throws Error naming the structure for a key that is not a positive number.
    Sigmas sigmas_of(const Frame& frame, std::size_t index) const;
};

// Sets the structure keys the trainer reads from a frame's info (as an extended-XYZ comment line
// would): {"config_type": "slab", "energy_sigma": eV/atom, "force_sigma": eV/Å, "virial_sigma":
// eV/atom}, each optional; any other key, a non-string type or a sigma that is not a positive
// number is Error(json_error). Keys not given are left as they are.
void set_structure_keys(Frame& frame, const json& keys);

struct TrainingSummary {
    int64_t n_structures = 0, n_environments = 0, n_energy_rows = 0, n_force_rows = 0, n_virial_rows = 0;
    std::map<int32_t, int64_t> n_sparse;      // per species
    std::map<int32_t, double> baselines;
    double jitter_used = 0.0;
    ErrorMetrics training;                    // the model on its own training data
    // Where the time went, in order (this process; wall and CPU seconds of every thread). Not part
    // of to_json: a model file does not depend on how long its fit took.
    struct Stage {
        std::string name;
        double wall_seconds = 0.0, cpu_seconds = 0.0;
    };
    std::vector<Stage> stages;

    json to_json() const;
};

// How a sparse-GPR fit is shared between processes (MPI lives at the edge, in the command-line
// tool; the library sees only this interface). Every process holds all structures; each does the
// expensive work (features, gradients, design rows, training errors) for a contiguous slice of
// them (its share of the fixed reduction slices). The default is one process.
class TrainingCommunicator {
public:
    virtual ~TrainingCommunicator() = default;
    virtual int rank() const { return 0; }
    virtual int size() const { return 1; }
    // Element-wise sum over processes, in place, on every process.
    virtual void sum(std::vector<double>&) const {}
    // Every process's `local` concatenated in rank order, on every process.
    virtual std::vector<double> gather(const std::vector<double>& local) const { return local; }
};

// Throws Error for inconsistent data (a forces array of the wrong length, no energies when they
// are used, species the descriptor does not handle) and Error(linalg) if the solve fails. With
// several processes the reference environments are chosen from the gathered features exactly as
// in one process, and the rows are reduced in at least 16 fixed slices of the structures whose
// triangular factors are combined in slice order by every process count alike: up to 16
// processes give the weights of the one-process fit bit for bit.
Model train_sparse_gpr(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary = nullptr,
                       const TrainingCommunicator& communicator = TrainingCommunicator());

// Kernel ridge regression on structure energies (Pozdnyakov et al. eq 19): (K + Sigma) alpha = E - baselines
// with the structure kernel K_AB = sum of k over same-species environment pairs and
// Sigma = diag((sigma_energy sqrt N_A)^2), solved by Cholesky; the model's references are all
// training environments, each weighted by its structure's alpha. Energies only.
Model train_krr(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary = nullptr);

// train_krr or train_sparse_gpr as settings.method says (kernel ridge regression runs in one process).
Model train(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary = nullptr,
            const TrainingCommunicator& communicator = TrainingCommunicator());

// k-fold cross-validation: structures are shuffled with `seed` (std::mt19937_64) and dealt into k
// folds; each fold is predicted by a model trained on the others. Errors are pooled over all
// held-out predictions; per-fold errors are kept too.
struct CrossValidation {
    ErrorMetrics pooled;
    std::vector<ErrorMetrics> folds;
    std::map<std::string, ErrorMetrics> by_config_type;  // pooled over the folds
    // For models that carry a posterior covariance: the held-out energy errors against the fold
    // models' predicted variances, as fitted (scale 1).
    std::optional<Calibration> calibration;
};
CrossValidation cross_validate(const std::vector<Frame>& frames, const TrainingSettings& settings, int folds, uint64_t seed,
                               const TrainingCommunicator& communicator = TrainingCommunicator());

// A grid of cross-validated fits over the kernel's parameter (zeta for the polynomial kernel, gamma
// for the squared exponential; the linear kernel has none and takes one value, reported as given)
// and the energy regularisation sigma_energy (sigma_forces and sigma_virial scale with it). Points
// in row-major order: kernel value outer, sigma inner.
struct ScanPoint {
    double kernel_parameter = 0.0, sigma_energy = 0.0;
    ErrorMetrics errors;  // pooled cross-validation errors
};
std::vector<ScanPoint> scan_hyperparameters(const std::vector<Frame>& frames, const TrainingSettings& settings,
                                            const std::vector<double>& kernel_values, const std::vector<double>& sigma_values,
                                            int folds, uint64_t seed,
                                            const TrainingCommunicator& communicator = TrainingCommunicator());



}  // namespace atomfp
