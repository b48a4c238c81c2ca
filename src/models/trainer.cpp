#include "models/trainer.hpp"

#include "models/evaluation.hpp"

#include "core/blas.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/lapack.hpp"
#include "core/neighbour_list.hpp"
#include "core/small_kernels.hpp"
#include "descriptors/factory.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <cstdlib>
#include <limits>
#include <random>

namespace atomfp {

namespace {

// An element given as a symbol ("Si") or an atomic number ("14").
int32_t element_of(const std::string& key, const char* what) {
    char* end = nullptr;
    const long number = std::strtol(key.c_str(), &end, 10);
    const int32_t z = (!key.empty() && *end == '\0') ? static_cast<int32_t>(number) : atomic_number(key);
    if (z < 1 || z > 118) fail(Status::json_error, "training: ", what, " '", key, "' is not an element");
    return z;
}

}  // namespace

TrainingSettings TrainingSettings::parse(const json& config) {
    if (!config.is_object()) fail(Status::json_error, "a training configuration must be a JSON object");
    SpecReader r(config, "training");
    TrainingSettings s;
    s.descriptor = r.value("descriptor");
    if (!s.descriptor.is_object()) fail(Status::json_error, "training: 'descriptor' must be a descriptor specification object");
    s.method = r.string("method", std::string("sparse_gpr"), {"sparse_gpr", "krr"}) == "krr" ? TrainingMethod::krr
                                                                                              : TrainingMethod::sparse_gpr;
    if (r.has("kernel")) s.kernel = Kernel::from_json(r.value("kernel"));
    s.sparse_per_species = r.integer("sparse_per_species", s.sparse_per_species, 1, 1000000);
    s.cur_selection = r.string("selection", std::string("fps"), {"fps", "cur"}) == "cur";
    s.use_energies = r.boolean("use_energies", s.use_energies);
    s.use_forces = r.boolean("use_forces", s.use_forces);
    s.use_virials = r.boolean("use_virials", s.use_virials);
    // A sigma for a quantity that is not fitted is refused: it would be silently ignored.
    // Each sigma with the quantity it weights and whether that quantity is fitted.
    auto read_sigmas = [&s](SpecReader& reader, const Sigmas& fallback) {
        auto sigma = [&reader](const char* key, const char* quantity, bool used, double value) {
            if (reader.has(key) && !used) {
                fail(Status::json_error, "key '", reader.key_name(key), "' is given but ", quantity, " are not fitted (use_", quantity,
                     " is false): set it to true or remove the key");
            }
            return reader.number(key, value, 0.0, 1e6, true);
        };
        return Sigmas{sigma("sigma_energy", "energies", s.use_energies, fallback.energy),
                      sigma("sigma_forces", "forces", s.use_forces, fallback.forces),
                      sigma("sigma_virial", "virials", s.use_virials, fallback.virial)};
    };
    const Sigmas global = read_sigmas(r, s.global_sigmas());
    s.sigma_energy = global.energy;
    s.sigma_forces = global.forces;
    s.sigma_virial = global.virial;
    if (r.has("config_type_sigma")) {
        const json& types = r.value("config_type_sigma");
        if (!types.is_object()) fail(Status::json_error, "training: 'config_type_sigma' must map config_type names to sigmas");
        for (const auto& [type, value] : types.items()) {
            if (!value.is_object()) fail(Status::json_error, "training: config_type_sigma['", type, "'] must be an object of sigmas");
            SpecReader t(value, "config_type_sigma." + type);
            s.config_type_sigmas[type] = read_sigmas(t, global);
            t.finish();
        }
    }
    if (r.has("repulsion")) {
        s.repulsion = r.value("repulsion");
        CoreRepulsion(s.repulsion, std::numeric_limits<double>::infinity());  // checked now; the cutoff bound in the fit
    }
    s.labels.energy = r.string("energy_key", s.labels.energy, {});
    s.labels.forces = r.string("forces_key", s.labels.forces, {});
    s.labels.stress = r.string("stress_key", s.labels.stress, {});
    s.labels.virial = r.string("virial_key", s.labels.virial, {});
    s.jitter = r.number("jitter", s.jitter, 0.0, 1e-6);
    s.predictive_variance = r.boolean("predictive_variance", s.predictive_variance);
    if (r.has("baselines") && r.value("baselines").is_string()) {
        s.baseline_fit = r.string("baselines", std::nullopt, {"average", "composition"}) == "average" ? BaselineFit::average
                                                                                                   : BaselineFit::composition;
    } else if (r.has("baselines")) {
        const json& baselines = r.value("baselines");
        if (!baselines.is_object()) {
            fail(Status::json_error, "training: 'baselines' must map species to energies, or be \"average\" or \"composition\"");
        }
        for (const auto& [key, value] : baselines.items()) {
            const int32_t z = element_of(key, "baselines key");
            if (!value.is_number()) fail(Status::json_error, "training: baselines['", key, "'] must be a number (eV)");
            s.baselines[z] = value.get<double>();
        }
    }
    if (r.has("learned_species")) {
        s.learned_species = r.element_list("learned_species");
        if (s.learned_species.empty()) {
            fail(Status::json_error, "training: 'learned_species' must be a non-empty list of elements");
        }
    }
    r.finish();
    if (!s.use_energies && !s.use_forces && !s.use_virials) fail(Status::json_error, "training: no quantity to fit");
    return s;
}

json TrainingSettings::to_json() const {
    json out = {{"method", method == TrainingMethod::krr ? "krr" : "sparse_gpr"},
                {"descriptor", descriptor},
                {"kernel", kernel.to_json()},
                {"sparse_per_species", sparse_per_species},
                {"selection", cur_selection ? "cur" : "fps"},
                {"use_energies", use_energies},
                {"use_forces", use_forces},
                {"use_virials", use_virials},
                {"energy_key", labels.energy},
                {"forces_key", labels.forces},
                {"stress_key", labels.stress},
                {"virial_key", labels.virial},
                {"predictive_variance", predictive_variance},
                {"jitter", jitter}};
    // Sigmas only of the quantities fitted: parse refuses the others.
    auto put_sigmas = [this](json& target, const Sigmas& sigmas) {
        if (use_energies) target["sigma_energy"] = sigmas.energy;
        if (use_forces) target["sigma_forces"] = sigmas.forces;
        if (use_virials) target["sigma_virial"] = sigmas.virial;
    };
    put_sigmas(out, global_sigmas());
    if (!config_type_sigmas.empty()) {
        json types = json::object();
        for (const auto& [type, sigmas] : config_type_sigmas) put_sigmas(types[type], sigmas);
        out["config_type_sigma"] = types;
    }
    if (!baselines.empty()) {
        json base = json::object();
        for (const auto& [z, e] : baselines) base[element_symbol(z)] = e;
        out["baselines"] = base;
    } else {
        out["baselines"] = baseline_fit == BaselineFit::average ? "average" : "composition";
    }
    if (!repulsion.is_null()) out["repulsion"] = repulsion;
    if (!learned_species.empty()) {
        json learned = json::array();
        for (int32_t z : learned_species) learned.push_back(element_symbol(z));
        out["learned_species"] = learned;
    }
    return out;
}

Sigmas TrainingSettings::sigmas_of(const Frame& frame, std::size_t index) const {
    Sigmas sigmas = global_sigmas();
    const auto found = config_type_sigmas.find(config_type_of(frame, ""));
    if (found != config_type_sigmas.end()) sigmas = found->second;
    auto own = [&](const char* key, double& target) {
        const auto it = frame.info.find(key);
        if (it == frame.info.end()) return;
        char* end = nullptr;
        const double value = std::strtod(it->second.c_str(), &end);
        if (it->second.empty() || *end != '\0' || !(value > 0.0) || !std::isfinite(value)) {
            fail(Status::invalid_argument, "structure ", index, ": ", key, "='", it->second, "' is not a positive number");
        }
        target = value;
    };
    own("energy_sigma", sigmas.energy);
    own("force_sigma", sigmas.forces);
    own("virial_sigma", sigmas.virial);
    sigmas.energy *= sigma_scale;
    sigmas.forces *= sigma_scale;
    sigmas.virial *= sigma_scale;
    return sigmas;
}

void set_structure_keys(Frame& frame, const json& keys) {
    if (!keys.is_object()) fail(Status::json_error, "structure keys must be a JSON object such as {\"config_type\": \"slab\"}");
    SpecReader reader(keys);
    if (reader.has("config_type")) frame.info["config_type"] = reader.string("config_type", std::nullopt, {});
    for (const char* key : {"energy_sigma", "force_sigma", "virial_sigma"}) {
        if (!reader.has(key)) continue;
        std::ostringstream text;
        text << std::setprecision(17) << reader.number(key, std::nullopt, 0.0, 1e6, true);
        frame.info[key] = text.str();
    }
    reader.finish();
}

json TrainingSummary::to_json() const {
    json sparse = json::object(), base = json::object();
    for (const auto& [z, n] : n_sparse) sparse[element_symbol(z)] = n;
    for (const auto& [z, e] : baselines) base[element_symbol(z)] = e;
    return {{"structures", n_structures},          {"environments", n_environments},
            {"energy_rows", n_energy_rows},        {"force_rows", n_force_rows},
            {"virial_rows", n_virial_rows},        {"sparse_points", sparse},
            {"baselines_eV", base},                {"jitter_used", jitter_used},
            {"training_errors", training.to_json()}};
}


namespace {

// The exact content that decides a structure's neighbour list and features.
std::string structure_key(const std::string& descriptor_key, const Frame& frame) {
    std::string key = descriptor_key;
    auto append = [&key](const void* data, std::size_t bytes) { key.append(static_cast<const char*>(data), bytes); };
    append(frame.species.data(), frame.species.size() * sizeof(int32_t));
    append(frame.positions.data(), frame.positions.size() * sizeof(double));
    if (frame.cell) append(frame.cell->data(), 9 * sizeof(double));
    for (bool periodic : frame.pbc) key.push_back(periodic ? '1' : '0');
    return key;
}

}  // namespace

std::shared_ptr<const Prepared> FeatureCache::find(const std::string& descriptor_key, const Frame& frame) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(structure_key(descriptor_key, frame));
    return it == entries_.end() ? nullptr : it->second;
}

void FeatureCache::store(const std::string& descriptor_key, const Frame& frame, std::shared_ptr<const Prepared> prepared) {
    const std::lock_guard<std::mutex> lock(mutex_);
    entries_.emplace(structure_key(descriptor_key, frame), std::move(prepared));
}

namespace {

// Charges wall and CPU time (std::clock: every thread of the process) to the named stages of a
// fit, in the order they first appear: charge(name) adds the time since the previous charge.
class StageClock {
public:
    explicit StageClock(std::vector<TrainingSummary::Stage>& stages) : stages_(stages) {}
    void charge(const std::string& name) {
        const auto wall = std::chrono::steady_clock::now();
        const std::clock_t cpu = std::clock();
        auto stage = std::find_if(stages_.begin(), stages_.end(), [&](const TrainingSummary::Stage& s) { return s.name == name; });
        if (stage == stages_.end()) stage = stages_.insert(stages_.end(), TrainingSummary::Stage{name, 0.0, 0.0});
        stage->wall_seconds += std::chrono::duration<double>(wall - wall_).count();
        stage->cpu_seconds += static_cast<double>(cpu - cpu_) / CLOCKS_PER_SEC;
        wall_ = wall;
        cpu_ = cpu;
    }

private:
    std::vector<TrainingSummary::Stage>& stages_;
    std::chrono::steady_clock::time_point wall_ = std::chrono::steady_clock::now();
    std::clock_t cpu_ = std::clock();
};

// What both training methods start from: the validated data, the species present (sorted), the
// baselines, and every structure's neighbour list and features.
struct TrainingData {
    std::shared_ptr<const Descriptor> descriptor;  // handed to the finished model
    int64_t n_features = 0;
    std::vector<int32_t> species;
    std::map<int32_t, double> baselines;
    std::vector<std::shared_ptr<const Prepared>> prepared;
    std::vector<Sigmas> sigmas;  // per structure
    // The core repulsion's share of every structure's labels (empty without one): the kernel model
    // is fitted to the labels minus these.
    struct Share {
        double energy = 0.0;
        std::vector<double> forces;
        Mat3 virial{};
    };
    std::shared_ptr<const CoreRepulsion> repulsion;
    std::vector<Share> repulsion_share;

    double energy_label(const Frame& f, std::size_t a) const {
        return *f.energy - (repulsion ? repulsion_share[a].energy : 0.0);
    }
    double force_label(const Frame& f, std::size_t a, int64_t i) const {
        return f.forces[i] - (repulsion ? repulsion_share[a].forces[i] : 0.0);
    }
    double virial_label(const Mat3& virial, std::size_t a, int i) const {
        return virial[i] - (repulsion ? repulsion_share[a].virial[i] : 0.0);
    }

    std::vector<int32_t> learned_species;  // empty: all

    std::size_t species_index(int32_t z) const {
        return static_cast<std::size_t>(std::find(species.begin(), species.end(), z) - species.begin());
    }
    bool learned(int32_t z) const {
        return learned_species.empty() || std::find(learned_species.begin(), learned_species.end(), z) != learned_species.end();
    }
};

// The least-squares rows are reduced in a fixed number of slices of the structures, whatever the
// number of processes (at least this many; one per process beyond): every slice's triangular
// factor is formed alone and the factors are combined in slice order, so one process and many do
// the same arithmetic and fit the same weights.
constexpr int min_reduction_slices = 16;

int reduction_slices(const TrainingCommunicator& communicator) { return std::max(min_reduction_slices, communicator.size()); }

// Structures [first, end) of reduction slice `s` of `count`.
std::pair<std::size_t, std::size_t> slice_structures(std::size_t n, int s, int count) {
    return {static_cast<std::size_t>(s) * n / count, static_cast<std::size_t>(s + 1) * n / count};
}

// This process's reduction slices [first, end): contiguous, in rank order.
std::pair<int, int> process_slices(const TrainingCommunicator& communicator) {
    const int count = reduction_slices(communicator), k = communicator.size(), r = communicator.rank();
    return {r * count / k, (r + 1) * count / k};
}

// This process's structures: those of its reduction slices.
std::pair<std::size_t, std::size_t> slice(std::size_t n, const TrainingCommunicator& communicator) {
    const auto [first, end] = process_slices(communicator);
    const int count = reduction_slices(communicator);
    return {slice_structures(n, first, count).first, slice_structures(n, end - 1, count).second};
}

// A structure's neighbour list and features: from the cache when it has them, else computed (and
// stored there).
std::shared_ptr<const Prepared> prepared_of(const Descriptor& descriptor, const std::string& descriptor_key, const Frame& frame,
                                            FeatureCache* cache) {
    if (cache)
        if (auto hit = cache->find(descriptor_key, frame)) return hit;
    auto fresh = std::make_shared<Prepared>();
    fresh->list = neighbours_of(frame, descriptor.cutoff());
    fresh->features.resize(static_cast<std::size_t>(frame.size()) * descriptor.feature_count());
    compute(descriptor, fresh->list.view(), fresh->features.data(), nullptr);
    if (cache) cache->store(descriptor_key, frame, fresh);
    return fresh;
}

// " (config_type md300)" or nothing: where a message names a structure, users look for its type.
std::string type_of(const Frame& frame) {
    const std::string type = config_type_of(frame, "");
    return type.empty() ? type : " (config_type " + type + ")";
}

// The labels a fit needs, each named by its key in the file when it is missing.
void check_labels(const Frame& f, std::size_t a, const TrainingSettings& settings) {
    if (f.size() == 0) fail(Status::invalid_argument, "structure ", a, type_of(f), " has no atoms");
    if (settings.use_energies && !f.energy) {
        fail(Status::invalid_argument, "structure ", a, type_of(f), " has no energy: no key '", settings.labels.energy,
             "' (set energy_key to the file's name for it)");
    }
    if (settings.use_forces && f.forces.empty()) {
        fail(Status::invalid_argument, "structure ", a, type_of(f), " has no forces: no per-atom column '", settings.labels.forces,
             "' (set forces_key to the file's name for it)");
    }
    if (settings.use_forces && static_cast<int64_t>(f.forces.size()) != 3 * f.size()) {
        fail(Status::invalid_argument, "structure ", a, type_of(f), ": forces has ", f.forces.size(), " values for ", f.size(),
             " atoms (", 3 * f.size(), " expected)");
    }
}

TrainingData prepare(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary& report,
                     const TrainingCommunicator& communicator) {
    if (frames.empty()) fail(Status::invalid_argument, "no training structures");
    TrainingData data;
    data.descriptor = create_descriptor_from_spec(settings.descriptor);
    const Descriptor& descriptor = *data.descriptor;
    data.n_features = descriptor.feature_count();
    report.n_structures = static_cast<int64_t>(frames.size());

    // Validation and the species present, before any expensive work.
    std::vector<int32_t>& species = data.species;
    for (std::size_t a = 0; a < frames.size(); ++a) {
        const Frame& f = frames[a];
        check_labels(f, a, settings);
        data.sigmas.push_back(settings.sigmas_of(f, a));
        for (int32_t z : f.species) {
            if (!descriptor.handles_species(z)) {
                fail(Status::species, "structure ", a, " contains ", element_symbol(z), ", which the descriptor does not handle");
            }
            if (std::find(species.begin(), species.end(), z) == species.end()) species.push_back(z);
        }
    }
    if (settings.use_virials && std::none_of(frames.begin(), frames.end(), [](const Frame& f) { return reference_virial(f).has_value(); })) {
        fail(Status::invalid_argument, "use_virials is true but no structure has a '", settings.labels.virial, "' or a '",
             settings.labels.stress, "' (with a Lattice)");
    }
    std::sort(species.begin(), species.end());
    const std::size_t n_species = species.size();
    data.learned_species = settings.learned_species;
    if (std::none_of(species.begin(), species.end(), [&](int32_t z) { return data.learned(z); })) {
        fail(Status::invalid_argument, "none of the species in the data is in learned_species");
    }

    if (!settings.repulsion.is_null()) {
        data.repulsion = std::make_shared<const CoreRepulsion>(settings.repulsion, descriptor.cutoff());
        data.repulsion_share.resize(frames.size());
        for (std::size_t a = 0; a < frames.size(); ++a) {
            const NeighbourList list = neighbours_of(frames[a], data.repulsion->max_outer());
            const SystemView view = list.view();
            std::vector<double> local(view.n_centers, 0.0), contracted(3 * view.n_gradient_blocks(), 0.0);
            data.repulsion->add(view, local.data(), contracted.data());
            TrainingData::Share& share = data.repulsion_share[a];
            for (double e : local) share.energy += e;
            share.forces.resize(3 * view.n_atoms);
            forces_and_virial(view, contracted.data(), share.forces.data(), share.virial.data());
        }
    }

    // Baselines: given, the mean energy per atom for every species, or the least-squares fit of the
    // energies on the composition.
    std::map<int32_t, double>& baselines = data.baselines;
    baselines = settings.baselines;
    for (int32_t z : species) {
        if (!settings.baselines.empty() && !baselines.count(z)) {
            fail(Status::invalid_argument, "no baseline given for ", element_symbol(z), " (give all species or none)");
        }
    }
    if (baselines.empty() && settings.baseline_fit == TrainingSettings::BaselineFit::average) {
        double energy = 0.0, atoms = 0.0;
        for (std::size_t a = 0; a < frames.size(); ++a) {
            if (!frames[a].energy) continue;
            energy += data.energy_label(frames[a], a);
            atoms += static_cast<double>(frames[a].size());
        }
        for (int32_t z : species) baselines[z] = atoms > 0.0 ? energy / atoms : 0.0;
    } else if (baselines.empty()) {
        std::vector<double> normal(n_species * n_species, 0.0), rhs(n_species, 0.0);
        bool any = false;
        for (std::size_t a = 0; a < frames.size(); ++a) {
            const Frame& f = frames[a];
            if (!f.energy) continue;
            any = true;
            std::vector<double> count(n_species, 0.0);
            for (int32_t z : f.species) count[data.species_index(z)] += 1.0;
            for (std::size_t i = 0; i < n_species; ++i) {
                rhs[i] += count[i] * data.energy_label(f, a);
                for (std::size_t j = 0; j < n_species; ++j) normal[i * n_species + j] += count[i] * count[j];
            }
        }
        if (any) cholesky_solve(static_cast<int>(n_species), normal, rhs, 1e-10);
        for (std::size_t i = 0; i < n_species; ++i) baselines[species[i]] = any ? rhs[i] : 0.0;
    }
    report.baselines = baselines;

    data.prepared.resize(frames.size());
    const auto [begin, end] = slice(frames.size(), communicator);
    const std::string descriptor_key = descriptor.parameters().dump();
    for (std::size_t a = begin; a < end; ++a) {
        data.prepared[a] = prepared_of(descriptor, descriptor_key, frames[a], settings.feature_cache.get());
        if (settings.progress) settings.progress("features", static_cast<int64_t>(a + 1 - begin), static_cast<int64_t>(end - begin));
    }
    for (const Frame& f : frames) report.n_environments += f.size();
    return data;
}

// Energies from features computed beforehand: what Model::predict gives for the energy alone.
FramePrediction energy_from_features(const Model& model, const Prepared& prepared, int64_t n_atoms) {
    std::vector<double> local(n_atoms);
    model.center_energies_from_features(prepared.list.view(), prepared.features.data(), local.data());
    FramePrediction p;
    for (double e : local) p.energy += e;
    return p;
}

// The model's errors on its training data go into the summary and the model's metadata; with
// energies only, from the features already computed.
Model finish(Model model, const std::vector<Frame>& frames, const TrainingData& data, const TrainingSettings& settings,
             TrainingSummary& report, TrainingSummary* summary, const TrainingCommunicator& communicator, StageClock& clock) {
    model = std::move(model).with_repulsion(data.repulsion);
    if (settings.training_errors) {
        const auto [begin, end] = slice(frames.size(), communicator);
        const std::vector<Frame> own(frames.begin() + begin, frames.begin() + end);
        std::vector<FramePrediction> predictions;
        if (settings.use_forces || settings.use_virials) {
            predictions = predict_frames(model, own, settings.use_forces, settings.use_virials);
        } else {
            for (std::size_t a = begin; a < end; ++a) predictions.push_back(energy_from_features(model, *data.prepared[a], frames[a].size()));
        }
        ErrorSums sums = error_sums(own, predictions);
        communicator.sum(sums.values);
        report.training = sums.metrics();
        clock.charge("training errors");
    }
    if (summary) *summary = report;
    json training = report.to_json();
    json types = json::object();
    for (const Frame& frame : frames) {
        const std::string type = config_type_of(frame);
        types[type] = types.value(type, 0) + 1;
    }
    training["config_types"] = types;
    return std::move(model).with_metadata({{"training", training}, {"settings", settings.to_json()}});
}

}  // namespace

// The reference environments of every species (farthest-point sampling or CUR over the pooled
// features of all processes), and where each species' weights sit in the weight vector.
struct SparseSet {
    std::vector<SpeciesWeights> blocks;           // species, baseline and references as given
    std::vector<std::vector<double>> references;  // the same, prepared for the kernel
    std::vector<int64_t> offset;                  // species s owns weights [offset[s], offset[s + 1])
};

SparseSet select_sparse_points(const std::vector<Frame>& frames, TrainingData& data, const TrainingSettings& settings,
                               TrainingSummary& report, const TrainingCommunicator& communicator) {
    const auto [begin, end] = slice(frames.size(), communicator);
    const int64_t nf = data.n_features;
    const std::vector<int32_t>& species = data.species;
    const std::size_t n_species = species.size();
    const std::vector<std::shared_ptr<const Prepared>>& prepared = data.prepared;
    auto species_index = [&](int32_t z) { return data.species_index(z); };
    std::map<int32_t, double>& baselines = data.baselines;
    // Features pooled per species for the sparse selection, gathered in structure order.
    std::vector<std::vector<double>> pools(n_species);
    for (std::size_t a = begin; a < end; ++a) {
        for (int64_t i = 0; i < frames[a].size(); ++i) {
            if (!data.learned(frames[a].species[i])) continue;
            std::vector<double>& pool = pools[species_index(frames[a].species[i])];
            pool.insert(pool.end(), prepared[a]->features.begin() + i * nf, prepared[a]->features.begin() + (i + 1) * nf);
        }
    }
    for (auto& pool : pools) pool = communicator.gather(pool);
    SparseSet sparse;
    std::vector<SpeciesWeights>& blocks = sparse.blocks;
    std::vector<std::vector<double>>& references = sparse.references;
    std::vector<int64_t>& offset = sparse.offset;
    blocks.resize(n_species);
    references.resize(n_species);
    offset.assign(n_species + 1, 0);
    for (std::size_t s = 0; s < n_species; ++s) {
        const int64_t pool_size = static_cast<int64_t>(pools[s].size()) / nf;
        // The polynomial kernel compares directions, so directions are what FPS spreads out.
        std::vector<double> metric = pools[s];
        if (settings.kernel.kind() == KernelKind::polynomial) {
            for (int64_t i = 0; i < pool_size; ++i) {
                double norm = 0.0;
                for (int64_t k = 0; k < nf; ++k) norm += metric[i * nf + k] * metric[i * nf + k];
                norm = std::sqrt(norm);
                if (norm > 0.0)
                    for (int64_t k = 0; k < nf; ++k) metric[i * nf + k] /= norm;
            }
        }
        const std::vector<int64_t> chosen = pool_size == 0             ? std::vector<int64_t>()
                                            : settings.cur_selection ? cur_selection(pool_size, nf, metric.data(), settings.sparse_per_species)
                                                                     : farthest_point_sampling(pool_size, nf, metric.data(), settings.sparse_per_species);
        blocks[s].species = species[s];
        blocks[s].baseline = baselines[species[s]];
        set_feature_ranges(blocks[s], pools[s], nf);
        for (int64_t i : chosen) blocks[s].references.insert(blocks[s].references.end(), pools[s].begin() + i * nf, pools[s].begin() + (i + 1) * nf);
        references[s] = blocks[s].references;
        settings.kernel.prepare_references(static_cast<int64_t>(chosen.size()), nf, references[s].data());
        offset[s + 1] = offset[s] + static_cast<int64_t>(chosen.size());
        report.n_sparse[species[s]] = static_cast<int64_t>(chosen.size());
    }
    return sparse;
}

// The rows of the sparse-GPR least-squares problem: the prior, and each structure's energy, force
// and virial rows.
struct DesignRows {
    const std::vector<Frame>& frames;
    const TrainingSettings& settings;
    TrainingData& data;
    const SparseSet& sparse;
    TrainingSummary& report;
    std::size_t begin, end;  // this process's structures (for progress)

    const Descriptor& descriptor = *data.descriptor;
    const int64_t nf = data.n_features;
    const std::size_t n_species = data.species.size();
    const std::vector<std::shared_ptr<const Prepared>>& prepared = data.prepared;
    std::map<int32_t, double>& baselines = data.baselines;
    const std::vector<Sigmas>& sigmas = data.sigmas;
    const std::vector<std::vector<double>>& references = sparse.references;
    const std::vector<int64_t>& offset = sparse.offset;
    const int64_t M = sparse.offset.back();

    std::size_t species_index(int32_t z) const { return data.species_index(z); }

    // The least-squares system: the prior w^T K_MM w as rows K_MM^(1/2) (block-diagonal over
    // species, from its eigendecomposition), a jitter sqrt(jitter * mean diag K_MM) I that keeps
    // R invertible when K_MM is singular, then the scaled data rows of every structure.
    // K_MM of species s's references [m][m] and its mean diagonal (the prior adds jitter times it).
    std::vector<double> reference_kernel(std::size_t s, double& mean_diagonal) const {
        const int64_t m = offset[s + 1] - offset[s];
        std::vector<double> K(static_cast<std::size_t>(m) * m);
        settings.kernel.matrix(m, references[s].data(), m, references[s].data(), nf, K.data());
        mean_diagonal = 0.0;
        for (int64_t i = 0; i < m; ++i) mean_diagonal += K[i * m + i] / static_cast<double>(m);
        return K;
    }

    void add_prior_rows(LeastSquares& system) const {
        for (std::size_t s = 0; s < n_species; ++s) {
            const int64_t m = offset[s + 1] - offset[s];
            if (m == 0) continue;
            double mean_diagonal = 0.0;
            std::vector<double> K = reference_kernel(s, mean_diagonal), eigenvalues;
            symmetric_eigen(static_cast<int>(m), K, eigenvalues);
            std::vector<double> rows(static_cast<std::size_t>(2 * m) * M, 0.0), zeros(2 * m, 0.0);
            for (int64_t k = 0; k < m; ++k) {
                const double root = std::sqrt(std::max(eigenvalues[k], 0.0));
                for (int64_t j = 0; j < m; ++j) rows[k * M + offset[s] + j] = root * K[k * m + j];
                rows[(m + k) * M + offset[s] + k] = std::sqrt(settings.jitter * mean_diagonal);
            }
            system.add_rows(2 * m, rows.data(), zeros.data());
        }
    }

    // The posterior covariance of the weights from the factor R of the full system (prior and data
    // rows; [(M + 1)][(M + 1)] row-major with the target column): the Cholesky factors of the
    // prior's K_MM + jitter per species, and R. A K_MM that is singular even with the prior's
    // jitter (jitter 0 and duplicate references) gets the least jitter, from 1e-12 of its mean
    // diagonal up, that makes it factorisable.
    std::shared_ptr<const PosteriorCovariance> posterior_covariance(const std::vector<double>& factor) const {
        std::vector<std::vector<double>> prior_factors;
        for (std::size_t s = 0; s < n_species; ++s) {
            const int64_t m = offset[s + 1] - offset[s];
            double mean_diagonal = 0.0;
            const std::vector<double> K = reference_kernel(s, mean_diagonal);
            for (double extra = 0.0;;) {
                std::vector<double> L = K;
                for (int64_t i = 0; i < m; ++i) L[i * m + i] += (settings.jitter + extra) * mean_diagonal;
                try {
                    cholesky_factor(static_cast<int>(m), L);
                    prior_factors.push_back(std::move(L));
                    break;
                } catch (const Error& e) {
                    extra = extra == 0.0 ? 1e-12 : 10.0 * extra;
                    if (e.status() != Status::linalg || extra > 1e-6) throw;
                }
            }
        }
        std::vector<double> R(static_cast<std::size_t>(M) * M);
        for (int64_t i = 0; i < M; ++i) std::copy_n(factor.data() + i * (M + 1), M, R.data() + i * M);
        return std::make_shared<const PosteriorCovariance>(std::move(prior_factors), std::move(R));
    }

    // Per species, its references as the descriptor projects gradient blocks on them.
    std::vector<std::unique_ptr<Descriptor::Projection>> projections = [this] {
        std::vector<std::unique_ptr<Descriptor::Projection>> out;
        for (std::size_t s = 0; s < n_species; ++s) out.push_back(descriptor.make_projection(offset[s + 1] - offset[s], references[s].data()));
        return out;
    }();
    // Scratch reused from structure to structure (fresh buffers of this size would be page-faulted
    // in on every use).
    std::unique_ptr<Descriptor::Workspace> workspace = descriptor.make_workspace();
    mutable std::vector<Environment> environments = {};
    struct BatchScratch {
        std::vector<double> X, A, B, K, P, q;
    };
    mutable BatchScratch batch_scratch = {};

    // The columns of species s in the design rows of one structure, from its centres of that species:
    // the energy row sums k(x_c, s_j); the force and virial rows take -dE/dx from the centres'
    // feature gradients contracted with every reference's kernel derivative. That contraction is
    // (G_c S^T) diag(A_c) + (G_c x_c) B_c (Kernel::derivative_factors), where the descriptor
    // projects the gradient blocks G_c of a batch of centres on S in large matrix products
    // (Descriptor::project_environments). A row index of -1 skips a kind.
    void add_species_rows(const SystemView& view, const double* features, std::size_t s, const std::vector<int64_t>& centres,
                          int64_t energy_row, int64_t force_row, int64_t virial_row, double* phi) const {
        const int64_t m = offset[s + 1] - offset[s];
        const double* S = references[s].data();
        const bool derivatives = force_row >= 0 || virial_row >= 0;
        // Batches of centres with at most this many projected rows (at least one centre).
        constexpr int64_t batch_rows = 2048;
        if (environments.size() < centres.size()) environments.resize(centres.size());
        auto& [X, A, B, K, P, q] = batch_scratch;
        for (std::size_t first = 0; first < centres.size();) {
            std::size_t last = first;
            int64_t rows = 0;
            while (last < centres.size()) {
                Environment& environment = environments[last - first];
                environment.build(view, centres[last], descriptor.cutoff());
                if (last > first && rows + 3 * environment.size() > batch_rows) break;
                rows += 3 * environment.size();
                ++last;
            }
            const int64_t nc = static_cast<int64_t>(last - first);
            X.resize(static_cast<std::size_t>(nc) * nf);
            for (int64_t i = 0; i < nc; ++i) std::copy_n(features + centres[first + i] * nf, nf, X.data() + i * nf);
            A.resize(static_cast<std::size_t>(nc) * m);
            B.resize(A.size());
            K.resize(A.size());
            settings.kernel.derivative_factors(nc, X.data(), m, S, nf, A.data(), B.data(), K.data());
            if (energy_row >= 0) {
                double* row = phi + energy_row * M + offset[s];
                for (int64_t i = 0; i < nc; ++i)
                    for (int64_t j = 0; j < m; ++j) row[j] += K[i * m + j];
            }
            if (derivatives && rows > 0) {
                P.resize(static_cast<std::size_t>(rows) * m);
                q.resize(rows);
                descriptor.project_environments(nc, environments.data(), *projections[s], P.data(), q.data(), *workspace);
                int64_t at = 0;
                for (int64_t i = 0; i < nc; ++i) {
                    const Environment& environment = environments[i];
                    const int64_t centre_atom = view.centers[centres[first + i]];
                    const double *a_c = A.data() + i * m, *b_c = B.data() + i * m;
                    for (int64_t e = 0; e < environment.size(); ++e) {
                        const double* r = environment.displacements.data() + 3 * e;
                        for (int alpha = 0; alpha < 3; ++alpha, ++at) {
                            // t_j = d(k(x_c, s_j))/d(neighbour, alpha), overwritten in P; the centre's is -t.
                            double* t = P.data() + at * m;
                            for (int64_t j = 0; j < m; ++j) t[j] = t[j] * a_c[j] + q[at] * b_c[j];
                            if (force_row >= 0) {
                                double* row = phi + (force_row + 3 * environment.atoms[e] + alpha) * M + offset[s];
                                double* centre = phi + (force_row + 3 * centre_atom + alpha) * M + offset[s];
                                for (int64_t j = 0; j < m; ++j) {
                                    row[j] -= t[j];  // F = -dE/dx
                                    centre[j] += t[j];
                                }
                            }
                            if (virial_row >= 0) {
                                for (int row_a = 0; row_a < 3; ++row_a) {
                                    double* row = phi + (virial_row + 3 * row_a + alpha) * M + offset[s];
                                    for (int64_t j = 0; j < m; ++j) row[j] -= r[row_a] * t[j];  // W_ab = -sum r_a dE/dr_b
                                }
                            }
                        }
                    }
                }
            }
            first = last;
        }
    }

    // One structure's design rows (energy, forces, virial) scaled by 1/sigma, and their targets.
    struct Rows {
        int64_t count = 0;
        std::vector<double> phi, target;  // [count][M], [count]
    };
    mutable Rows reused = {};
    // The rows stay valid until the next call.
    const Rows& structure_rows(std::size_t a) const {
        const Frame& frame = frames[a];
        const SystemView view = prepared[a]->list.view();
        const int64_t n = frame.size();
        const double sqrt_n = std::sqrt(static_cast<double>(n));
        const Sigmas& sigma = sigmas[a];
        const bool energies = settings.use_energies, forces = settings.use_forces;
        const std::optional<Mat3> virial = settings.use_virials ? reference_virial(frame) : std::nullopt;
        const int64_t energy_row = 0, force_row = energies ? 1 : 0, virial_row = force_row + (forces ? 3 * n : 0);
        const int64_t rows = virial_row + (virial ? 9 : 0);
        std::vector<double>& phi = reused.phi;
        std::vector<double>& target = reused.target;
        phi.assign(static_cast<std::size_t>(rows) * M, 0.0);
        target.assign(rows, 0.0);
        reused.count = rows;
        for (std::size_t s = 0; s < n_species; ++s) {
            std::vector<int64_t> centres;
            for (int64_t c = 0; c < n; ++c)
                if (species_index(frame.species[c]) == s) centres.push_back(c);
            if (offset[s + 1] > offset[s] && !centres.empty()) {
                add_species_rows(view, prepared[a]->features.data(), s, centres, energies ? energy_row : -1,
                                 forces ? force_row : -1, virial ? virial_row : -1, phi.data());
            }
        }
        // Targets and weights.
        std::vector<double> weight(rows, 1.0);
        if (energies) {
            double reference = 0.0;
            for (int32_t z : frame.species) reference += baselines[z];
            target[energy_row] = data.energy_label(frame, a) - reference;
            weight[energy_row] = 1.0 / (sigma.energy * sqrt_n);
            ++report.n_energy_rows;
        }
        if (forces) {
            for (int64_t i = 0; i < 3 * n; ++i) {
                target[force_row + i] = data.force_label(frame, a, i);
                weight[force_row + i] = 1.0 / sigma.forces;
            }
            report.n_force_rows += 3 * n;
        }
        if (virial) {
            for (int i = 0; i < 9; ++i) {
                target[virial_row + i] = data.virial_label(*virial, a, i);
                weight[virial_row + i] = 1.0 / (sigma.virial * sqrt_n);
            }
            report.n_virial_rows += 9;
        }
        for (int64_t i = 0; i < rows; ++i) {
            target[i] *= weight[i];
            for (int64_t j = 0; j < M; ++j) phi[i * M + j] *= weight[i];
        }
        if (settings.progress) settings.progress("design rows", static_cast<int64_t>(a + 1 - begin), static_cast<int64_t>(end - begin));
        return reused;
    }
};

namespace {

// Sparse-GPR models for several common scales of the data rows' sigmas (sigma_energy, sigma_forces
// and sigma_virial all multiplied by each scale) from one set of design rows: the data rows are
// reduced once, slice by slice in slice order, to a triangular factor R, and the system of each
// scale is the prior rows followed by R / scale. A scan over sigma_energy costs one fit.
std::vector<Model> train_sparse_gpr_scaled(const std::vector<Frame>& frames, const TrainingSettings& settings,
                                           const std::vector<double>& scales, TrainingSummary* summary,
                                           const TrainingCommunicator& communicator) {
    TrainingSummary report;
    StageClock clock(report.stages);
    TrainingData data = prepare(frames, settings, report, communicator);
    clock.charge("features");
    SparseSet sparse = select_sparse_points(frames, data, settings, report, communicator);
    clock.charge("sparse selection");
    const auto [begin, end] = slice(frames.size(), communicator);
    const DesignRows design{frames, settings, data, sparse, report, begin, end};
    const int64_t M = design.M;
    const std::size_t n_species = data.species.size();
    const std::vector<int64_t>& offset = sparse.offset;

    LeastSquares data_rows(M);
    const std::size_t width = static_cast<std::size_t>(M) + 1;
    std::vector<double> local_factors;
    const auto [first_slice, end_slice] = process_slices(communicator);
    LeastSquares part(M);
    for (int sl = first_slice; sl < end_slice; ++sl) {
        part.clear();
        clock.charge("QR factorisation");  // the previous slice's merge
        const auto [slice_begin, slice_end] = slice_structures(frames.size(), sl, reduction_slices(communicator));
        for (std::size_t a = slice_begin; a < slice_end; ++a) {
            const DesignRows::Rows& rows = design.structure_rows(a);
            clock.charge("design rows");
            part.add_rows(rows.count, rows.phi.data(), rows.target.data());
            clock.charge("QR factorisation");
        }
        if (part.rows_added() == 0) continue;
        if (communicator.size() == 1) {
            data_rows.add_factor(part);  // what a gather of one process's factors would give, in the same order
        } else {
            const std::vector<double> factor = part.factor();
            local_factors.insert(local_factors.end(), factor.begin(), factor.end());
        }
    }
    part = LeastSquares(1);  // its memory back before the solves
    if (communicator.size() > 1) {
        const std::vector<double> factors = communicator.gather(local_factors);
        for (std::size_t f = 0; f < factors.size() / (width * width); ++f) data_rows.add_factor(factors.data() + f * width * width);
    }
    std::vector<double> counts = {static_cast<double>(report.n_energy_rows), static_cast<double>(report.n_force_rows),
                                  static_cast<double>(report.n_virial_rows)};
    communicator.sum(counts);
    report.n_energy_rows = static_cast<int64_t>(counts[0]);
    report.n_force_rows = static_cast<int64_t>(counts[1]);
    report.n_virial_rows = static_cast<int64_t>(counts[2]);
    clock.charge("QR factorisation");
    LeastSquares prior(M);
    design.add_prior_rows(prior);
    clock.charge("prior");
    report.jitter_used = settings.jitter;

    std::vector<Model> models;
    for (std::size_t i = 0; i < scales.size(); ++i) {
        const double scale = scales[i];
        // The last scale takes the prior's system itself.
        LeastSquares system = i + 1 < scales.size() ? prior : std::move(prior);
        if (scale == 1.0) {
            system.add_factor(data_rows);
        } else {
            std::vector<double> scaled = data_rows.factor();
            for (double& x : scaled) x /= scale;
            system.add_factor(scaled.data());
        }
        const std::vector<double> w = system.solve();
        std::vector<SpeciesWeights> blocks = sparse.blocks;
        for (std::size_t s = 0; s < n_species; ++s) blocks[s].weights.assign(w.begin() + offset[s], w.begin() + offset[s + 1]);
        Model model(data.descriptor, settings.kernel, std::move(blocks));
        if (settings.predictive_variance) model = std::move(model).with_covariance(design.posterior_covariance(system.factor()));
        clock.charge("solve");
        models.push_back(finish(std::move(model), frames, data, settings, report, summary, communicator, clock));
    }
    return models;
}

}  // namespace

Model train_sparse_gpr(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary,
                       const TrainingCommunicator& communicator) {
    return std::move(train_sparse_gpr_scaled(frames, settings, {1.0}, summary, communicator).front());
}

Model train_krr(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary) {
    if (settings.use_forces || settings.use_virials || !settings.use_energies) {
        fail(Status::invalid_argument, "kernel ridge regression fits energies only: set use_forces and use_virials to false");
    }
    TrainingSummary report;
    StageClock clock(report.stages);
    const TrainingCommunicator one_process;
    TrainingData data = prepare(frames, settings, report, one_process);
    clock.charge("features");
    const int64_t nf = data.n_features, n_structures = static_cast<int64_t>(frames.size());
    const std::size_t n_species = data.species.size();
    // Every environment is a reference; the structure kernel K_AB = sum over same-species pairs.
    std::vector<std::vector<double>> raw(n_species), prepared(n_species);
    std::vector<std::vector<int64_t>> owner(n_species);  // structure of each reference
    for (int64_t a = 0; a < n_structures; ++a)
        for (int64_t i = 0; i < frames[a].size(); ++i) {
            if (!data.learned(frames[a].species[i])) continue;
            const std::size_t s = data.species_index(frames[a].species[i]);
            const double* f = data.prepared[a]->features.data() + i * nf;
            raw[s].insert(raw[s].end(), f, f + nf);
            owner[s].push_back(a);
        }
    std::vector<double> K(static_cast<std::size_t>(n_structures) * n_structures, 0.0), y(n_structures);
    for (std::size_t s = 0; s < n_species; ++s) {
        const int64_t m = static_cast<int64_t>(owner[s].size());
        if (m == 0) continue;
        prepared[s] = raw[s];
        settings.kernel.prepare_references(m, nf, prepared[s].data());
        std::vector<double> k(static_cast<std::size_t>(m) * m);
        settings.kernel.matrix(m, raw[s].data(), m, prepared[s].data(), nf, k.data());
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < m; ++j) K[owner[s][i] * n_structures + owner[s][j]] += k[i * m + j];
    }
    for (int64_t a = 0; a < n_structures; ++a) {
        double reference = 0.0;
        for (int32_t z : frames[a].species) reference += data.baselines[z];
        y[a] = data.energy_label(frames[a], a) - reference;
        const double sigma = data.sigmas[a].energy * std::sqrt(static_cast<double>(frames[a].size()));
        K[a * n_structures + a] += sigma * sigma;
        ++report.n_energy_rows;
    }
    clock.charge("kernel matrix");
    report.jitter_used = cholesky_solve(static_cast<int>(n_structures), K, y, settings.jitter);
    clock.charge("solve");
    std::vector<SpeciesWeights> blocks(n_species);
    for (std::size_t s = 0; s < n_species; ++s) {
        blocks[s].species = data.species[s];
        blocks[s].baseline = data.baselines[data.species[s]];
        blocks[s].references = std::move(raw[s]);
        set_feature_ranges(blocks[s], blocks[s].references, data.n_features);
        for (int64_t a : owner[s]) blocks[s].weights.push_back(y[a]);
        report.n_sparse[data.species[s]] = static_cast<int64_t>(owner[s].size());
    }
    return finish(Model(data.descriptor, settings.kernel, std::move(blocks)), frames, data, settings, report, summary,
                  one_process, clock);
}

Model train(const std::vector<Frame>& frames, const TrainingSettings& settings, TrainingSummary* summary,
            const TrainingCommunicator& communicator) {
    return settings.method == TrainingMethod::krr ? train_krr(frames, settings, summary)
                                                   : train_sparse_gpr(frames, settings, summary, communicator);
}

namespace {

// Cross-validation of the fits for several common scales of the sigmas (see
// train_sparse_gpr_scaled): one set of design rows per fold serves every scale.
std::vector<CrossValidation> cross_validate_scaled(const std::vector<Frame>& frames, const TrainingSettings& settings,
                                                   const std::vector<double>& scales, int folds, uint64_t seed,
                                                   const TrainingCommunicator& communicator) {
    if (folds < 2) fail(Status::invalid_argument, "cross-validation needs at least 2 folds, got ", folds);
    if (static_cast<int64_t>(frames.size()) < folds) {
        fail(Status::invalid_argument, "cross-validation with ", folds, " folds needs at least ", folds, " structures, got ", frames.size());
    }
    std::vector<std::size_t> order(frames.size());
    for (std::size_t a = 0; a < order.size(); ++a) order[a] = a;
    std::mt19937_64 generator(seed);
    std::shuffle(order.begin(), order.end(), generator);
    TrainingSettings cached = settings;
    if (!cached.feature_cache) cached.feature_cache = std::make_shared<FeatureCache>();
    cached.training_errors = false;
    std::vector<CrossValidation> results(scales.size());
    std::vector<Frame> held_out_all;
    std::vector<std::vector<FramePrediction>> predictions_all(scales.size());
    for (int k = 0; k < folds; ++k) {
        std::vector<Frame> train, held_out;
        for (std::size_t r = 0; r < order.size(); ++r) (static_cast<int>(r % folds) == k ? held_out : train).push_back(frames[order[r]]);
        std::vector<Model> models;
        if (settings.method == TrainingMethod::sparse_gpr) {
            models = train_sparse_gpr_scaled(train, cached, scales, nullptr, communicator);
        } else {
            for (const double scale : scales) {
                TrainingSettings scaled = cached;
                scaled.sigma_scale = scale;
                models.push_back(train_krr(train, scaled));
            }
        }
        const bool forces = std::any_of(held_out.begin(), held_out.end(), [](const Frame& f) { return !f.forces.empty(); });
        const bool virials = std::any_of(held_out.begin(), held_out.end(), [](const Frame& f) { return reference_virial(f).has_value(); });
        for (std::size_t i = 0; i < scales.size(); ++i) {
            const Model& model = models[i];
            std::vector<FramePrediction> predictions;
            const bool variances = model.covariance() != nullptr;
            if (forces || virials) {
                predictions = predict_frames(model, held_out, forces, virials, variances);
            } else {
                // Energies only: from the cached features of the held-out structures.
                const std::string descriptor_key = model.descriptor().parameters().dump();
                for (const Frame& frame : held_out) {
                    const auto prepared = prepared_of(model.descriptor(), descriptor_key, frame, cached.feature_cache.get());
                    predictions.push_back(energy_from_features(model, *prepared, frame.size()));
                    if (variances) {
                        double total = 0.0;
                        model.predict_variance(neighbours_of(frame, model.cutoff()).view(), nullptr, &total);
                        predictions.back().energy_variance = total;
                    }
                }
            }
            results[i].folds.push_back(compare(held_out, predictions));
            predictions_all[i].insert(predictions_all[i].end(), predictions.begin(), predictions.end());
        }
        held_out_all.insert(held_out_all.end(), held_out.begin(), held_out.end());
        if (settings.progress) settings.progress("folds", k + 1, folds);
    }
    for (std::size_t i = 0; i < scales.size(); ++i) {
        results[i].pooled = compare(held_out_all, predictions_all[i]);
        results[i].by_config_type = compare_by_config_type(held_out_all, predictions_all[i]);
        const Calibration calibration = calibrate(held_out_all, predictions_all[i]);
        if (calibration.n > 0) results[i].calibration = calibration;
    }
    return results;
}

}  // namespace

CrossValidation cross_validate(const std::vector<Frame>& frames, const TrainingSettings& settings, int folds, uint64_t seed,
                               const TrainingCommunicator& communicator) {
    return std::move(cross_validate_scaled(frames, settings, {1.0}, folds, seed, communicator).front());
}

std::vector<ScanPoint> scan_hyperparameters(const std::vector<Frame>& frames, const TrainingSettings& settings,
                                            const std::vector<double>& kernel_values, const std::vector<double>& sigma_values,
                                            int folds, uint64_t seed, const TrainingCommunicator& communicator) {
    if (kernel_values.empty() || sigma_values.empty()) fail(Status::invalid_argument, "a scan needs at least one value on each axis");
    const bool linear = settings.kernel.kind() == KernelKind::linear;
    if (linear && kernel_values.size() != 1) {
        fail(Status::invalid_argument, "the linear kernel has no parameter to scan: give one kernel value, not ", kernel_values.size());
    }
    // sigma_forces and sigma_virial keep their ratio to sigma_energy: every sigma is a common scale.
    std::vector<double> scales;
    for (double sigma : sigma_values) {
        if (!(sigma > 0.0)) fail(Status::invalid_argument, "sigma_energy values must be positive, got ", sigma);
        scales.push_back(sigma / settings.sigma_energy);
    }
    std::vector<ScanPoint> points;
    TrainingSettings cached = settings;
    if (!cached.feature_cache) cached.feature_cache = std::make_shared<FeatureCache>();
    for (double kernel_value : kernel_values) {
        TrainingSettings point = cached;
        point.kernel = linear ? settings.kernel : settings.kernel.with_parameter(kernel_value);
        const std::vector<CrossValidation> errors = cross_validate_scaled(frames, point, scales, folds, seed, communicator);
        for (std::size_t i = 0; i < sigma_values.size(); ++i) points.push_back({kernel_value, sigma_values[i], errors[i].pooled});
    }
    return points;
}

}  // namespace atomfp
