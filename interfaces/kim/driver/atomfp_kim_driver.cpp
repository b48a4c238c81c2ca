// A KIM API model driver whose parameter file is an atomfp model file. It talks to atomfp only
// through the public headers: the C++ wrapper atomfp.hpp owns the model handle and turns failures
// into exceptions, which are logged here. The KIM neighbour list (full, ghost atoms, no image
// shifts) becomes an atomfp_system_t whose centres are the contributing particles, and the model's
// prediction fills KIM's optional outputs. Units are Å and eV; other requested units are refused at
// creation. Two published parameters switch on a warning in the KIM log when the model's posterior
// variance of an atom's energy exceeds a threshold (the KIM API has no channel for extra outputs);
// at the default threshold 0 nothing beyond the prediction is computed.
#include <atomfp.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "KIM_LogMacros.hpp"
#include "KIM_ModelDriverHeaders.hpp"
#include "element_symbols.hpp"

namespace {

// Everything a KIM model instance owns. KIM species code k is atomic number species[k].
struct Buffer {
    explicit Buffer(const std::string& path) : model(path), cutoff(model.cutoff()), species(model.species()) {}
    const atomfp::Model model;
    double cutoff = 0;
    int will_not_request_ghost_neighbours = 1;
    std::vector<int32_t> species;
    // Published parameters (`kim param set` in LAMMPS): warn when an atom's posterior variance
    // exceeds the threshold (eV², 0: off), checking every stride-th compute.
    double uncertainty_threshold = 0;
    int uncertainty_stride = 1;
    long computes = 0;
    int warnings = 0;
    std::vector<double> variances;
    // per-call scratch, reused
    std::vector<int32_t> particle_species;
    std::vector<int64_t> centers, offsets, neighbours;
    std::vector<double> center_energies, forces;
};

// The optional second parameter file names the KIM species of some atomic numbers (for example
// "user01 1" for a coarse-grained bead stored as Z = 1): one "<KIM species name> <atomic number>"
// per line, '#' starts a comment. Unlisted species keep their element symbols.
bool read_species_map(const std::string& path, std::map<int32_t, std::string>& names, std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = "cannot be opened";
        return false;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        line = line.substr(0, line.find('#'));
        std::istringstream fields(line);
        std::string name;
        if (!(fields >> name)) continue;
        long z = 0;
        std::string rest;
        if (!(fields >> z) || (fields >> rest) || z < 1 || z > atomfp_interfaces::max_atomic_number) {
            error = "line " + std::to_string(number) + " is not '<KIM species name> <atomic number 1..118>': " + line;
            return false;
        }
        if (!names.emplace(static_cast<int32_t>(z), name).second) {
            error = "atomic number " + std::to_string(z) + " is mapped twice";
            return false;
        }
    }
    return true;
}

// Whether the model carries a posterior covariance: a variance of one isolated atom says.
bool has_covariance(const atomfp::Model& model, int32_t species) {
    const double position[3] = {0, 0, 0};
    const int64_t centre = 0, offsets[2] = {0, 0}, no_neighbour = 0;
    atomfp_system_t system{};
    system.n_atoms = 1;
    system.positions = position;
    system.species = &species;
    system.n_centers = 1;
    system.centers = &centre;
    system.offsets = offsets;
    system.neighbours = &no_neighbour;
    double variance = 0;
    try {
        model.predict_variance(system, &variance, nullptr);
        return true;
    } catch (const atomfp::Error&) {
        return false;
    }
}

const int max_warnings = 100;

#undef KIM_LOGGER_OBJECT_NAME
#define KIM_LOGGER_OBJECT_NAME model_refresh
int refresh(KIM::ModelRefresh* const model_refresh) {
    Buffer* buffer = nullptr;
    model_refresh->GetModelBufferPointer(reinterpret_cast<void**>(&buffer));
    if (!(buffer->uncertainty_threshold >= 0) || !std::isfinite(buffer->uncertainty_threshold)) {
        LOG_ERROR("atomfp: uncertainty_threshold must be a finite variance >= 0 (eV^2; 0 switches the warning off)");
        return true;
    }
    if (buffer->uncertainty_stride < 1) {
        LOG_ERROR("atomfp: uncertainty_stride must be >= 1");
        return true;
    }
    if (buffer->uncertainty_threshold > 0 && !has_covariance(buffer->model, buffer->species[0])) {
        LOG_ERROR("atomfp: uncertainty_threshold needs a model that carries a posterior covariance (fit it with "
                  "\"predictive_variance\": true, the default of sparse GPR; see docs/models.md)");
        return true;
    }
    buffer->warnings = 0;
    model_refresh->SetInfluenceDistancePointer(&buffer->cutoff);
    model_refresh->SetNeighborListPointers(1, &buffer->cutoff, &buffer->will_not_request_ghost_neighbours);
    return false;
}

#undef KIM_LOGGER_OBJECT_NAME
#define KIM_LOGGER_OBJECT_NAME model_compute
// The warning of the published threshold: every stride-th compute, the contributing atoms whose
// posterior variance exceeds it, in the KIM log (at most max_warnings entries per model).
int warn_if_uncertain(KIM::ModelCompute const* const model_compute, Buffer& buffer, const atomfp_system_t& system) {
    if (buffer.uncertainty_threshold <= 0 || buffer.computes++ % buffer.uncertainty_stride != 0) return false;
    if (buffer.warnings >= max_warnings) return false;
    buffer.variances.resize(static_cast<size_t>(system.n_centers));
    try {
        buffer.model.predict_variance(system, buffer.variances.data(), nullptr);
    } catch (const std::exception& error) {
        LOG_ERROR(std::string("atomfp: ") + error.what());
        return true;
    }
    const auto largest = std::max_element(buffer.variances.begin(), buffer.variances.end());
    if (largest == buffer.variances.end() || *largest <= buffer.uncertainty_threshold) return false;
    const long above = std::count_if(buffer.variances.begin(), buffer.variances.end(),
                                     [&](double v) { return v > buffer.uncertainty_threshold; });
    std::ostringstream message;
    message << "atomfp: uncertain prediction at compute " << buffer.computes - 1 << ": " << above << " of "
            << system.n_centers << " atoms have a posterior variance above " << buffer.uncertainty_threshold
            << " eV^2 (largest " << *largest << " eV^2, particle " << system.centers[largest - buffer.variances.begin()]
            << ")";
    if (++buffer.warnings == max_warnings) message << "; further warnings are not logged";
    LOG_WARNING(message.str());
    return false;
}

#undef KIM_LOGGER_OBJECT_NAME
#define KIM_LOGGER_OBJECT_NAME model_compute_arguments_create
int compute_arguments_create(KIM::ModelCompute const* const,
                             KIM::ModelComputeArgumentsCreate* const model_compute_arguments_create) {
    using namespace KIM::COMPUTE_ARGUMENT_NAME;
    const KIM::ComputeArgumentName optional[] = {partialEnergy, partialForces, partialParticleEnergy, partialVirial};
    for (const auto& name : optional) {
        if (model_compute_arguments_create->SetArgumentSupportStatus(name, KIM::SUPPORT_STATUS::optional)) {
            LOG_ERROR("atomfp: cannot register the support status of " + name.ToString());
            return true;
        }
    }
    return false;
}

int compute_arguments_destroy(KIM::ModelCompute const* const, KIM::ModelComputeArgumentsDestroy* const) {
    return false;
}

#undef KIM_LOGGER_OBJECT_NAME
#define KIM_LOGGER_OBJECT_NAME arguments
int compute(KIM::ModelCompute const* const model_compute, KIM::ModelComputeArguments const* const arguments) {
    Buffer* buffer = nullptr;
    model_compute->GetModelBufferPointer(reinterpret_cast<void**>(&buffer));

    int const* n_particles = nullptr;
    int const* species_codes = nullptr;
    int const* contributing = nullptr;
    double const* positions = nullptr;
    double* energy = nullptr;
    double* forces = nullptr;
    double* particle_energy = nullptr;
    double* virial = nullptr;
    using namespace KIM::COMPUTE_ARGUMENT_NAME;
    if (arguments->GetArgumentPointer(numberOfParticles, &n_particles) ||
        arguments->GetArgumentPointer(particleSpeciesCodes, &species_codes) ||
        arguments->GetArgumentPointer(particleContributing, &contributing) ||
        arguments->GetArgumentPointer(coordinates, &positions) || arguments->GetArgumentPointer(partialEnergy, &energy) ||
        arguments->GetArgumentPointer(partialForces, &forces) ||
        arguments->GetArgumentPointer(partialParticleEnergy, &particle_energy) ||
        arguments->GetArgumentPointer(partialVirial, &virial)) {
        LOG_ERROR("atomfp: cannot read the compute arguments");
        return true;
    }
    const int n = *n_particles;

    // KIM species codes -> atomic numbers; a code the driver did not register is the host's error.
    buffer->particle_species.resize(n);
    for (int i = 0; i < n; ++i) {
        const int code = species_codes[i];
        if (code < 0 || code >= static_cast<int>(buffer->species.size())) {
            LOG_ERROR("atomfp: particle " + std::to_string(i) + " has species code " + std::to_string(code) +
                      ", which this model did not register (codes 0.." + std::to_string(buffer->species.size() - 1) +
                      ")");
            return true;
        }
        buffer->particle_species[i] = buffer->species[code];
    }

    // The contributing particles are the centres; their KIM neighbour lists are the atomfp list.
    buffer->centers.clear();
    buffer->offsets.assign(1, 0);
    buffer->neighbours.clear();
    for (int i = 0; i < n; ++i) {
        if (!contributing[i]) continue;
        int n_neighbours = 0;
        int const* neighbours = nullptr;
        if (arguments->GetNeighborList(0, i, &n_neighbours, &neighbours)) {
            LOG_ERROR("atomfp: the host gave no neighbour list for particle " + std::to_string(i));
            return true;
        }
        buffer->centers.push_back(i);
        buffer->neighbours.insert(buffer->neighbours.end(), neighbours, neighbours + n_neighbours);
        buffer->offsets.push_back(static_cast<int64_t>(buffer->neighbours.size()));
    }
    const int64_t n_centers = static_cast<int64_t>(buffer->centers.size());

    atomfp_system_t system{};
    system.n_atoms = n;
    system.positions = positions;
    system.species = buffer->particle_species.data();
    system.n_centers = n_centers;
    system.centers = buffer->centers.data();
    system.offsets = buffer->offsets.data();
    system.neighbours = buffer->neighbours.data();

    buffer->center_energies.resize(n_centers);
    double total_energy = 0;
    double atomfp_virial[9];
    try {
        buffer->model.predict(system, energy ? &total_energy : nullptr,
                              particle_energy ? buffer->center_energies.data() : nullptr, forces,
                              virial ? atomfp_virial : nullptr);
    } catch (const std::exception& error) {
        LOG_ERROR(std::string("atomfp: ") + error.what());
        return true;
    }
    if (warn_if_uncertain(model_compute, *buffer, system)) return true;
    if (energy) *energy = total_energy;
    if (particle_energy) {
        for (int i = 0; i < n; ++i) particle_energy[i] = 0;
        for (int64_t c = 0; c < n_centers; ++c) particle_energy[buffer->centers[c]] = buffer->center_energies[c];
    }
    if (virial) {
        // KIM's virial is dE/d(strain) = -W, in Voigt order xx yy zz yz xz xy.
        virial[0] = -atomfp_virial[0];
        virial[1] = -atomfp_virial[4];
        virial[2] = -atomfp_virial[8];
        virial[3] = -atomfp_virial[5];
        virial[4] = -atomfp_virial[2];
        virial[5] = -atomfp_virial[1];
    }
    return false;
}

int destroy(KIM::ModelDestroy* const model_destroy) {
    Buffer* buffer = nullptr;
    model_destroy->GetModelBufferPointer(reinterpret_cast<void**>(&buffer));
    delete buffer;
    return false;
}

}  // namespace

#undef KIM_LOGGER_OBJECT_NAME
#define KIM_LOGGER_OBJECT_NAME create
extern "C" int model_driver_create(KIM::ModelDriverCreate* const create, KIM::LengthUnit const length_unit,
                                   KIM::EnergyUnit const energy_unit, KIM::ChargeUnit const,
                                   KIM::TemperatureUnit const, KIM::TimeUnit const) {
    if (length_unit != KIM::LENGTH_UNIT::A || energy_unit != KIM::ENERGY_UNIT::eV) {
        LOG_ERROR("atomfp: the model works in Å and eV (LAMMPS 'metal' units), but " + length_unit.ToString() +
                  " and " + energy_unit.ToString() + " were requested");
        return true;
    }
    int n_files = 0;
    create->GetNumberOfParameterFiles(&n_files);
    if (n_files != 1 && n_files != 2) {
        LOG_ERROR("atomfp: expected an atomfp model file and optionally a species map as parameter files, got " +
                  std::to_string(n_files) + " files");
        return true;
    }
    std::string const* directory = nullptr;
    create->GetParameterFileDirectoryName(&directory);
    std::string paths[2];
    for (int file = 0; file < n_files; ++file) {
        std::string const* basename = nullptr;
        if (create->GetParameterFileBasename(file, &basename)) {
            LOG_ERROR("atomfp: cannot get the name of parameter file " + std::to_string(file));
            return true;
        }
        paths[file] = *directory + "/" + *basename;
    }
    const std::string& path = paths[0];
    std::map<int32_t, std::string> species_names;
    if (n_files == 2) {
        std::string error;
        if (!read_species_map(paths[1], species_names, error)) {
            LOG_ERROR("atomfp: species map " + paths[1] + ": " + error);
            return true;
        }
    }

    std::unique_ptr<Buffer> buffer;
    try {
        buffer.reset(new Buffer(path));
    } catch (const std::exception& error) {
        LOG_ERROR(std::string("atomfp: cannot use model file ") + path + ": " + error.what());
        return true;
    }
    auto fail = [&](const std::string& message) {
        LOG_ERROR(message);
        return true;
    };
    if (buffer->species.empty()) return fail("atomfp: the model " + path + " has no species");

    if (create->SetUnits(KIM::LENGTH_UNIT::A, KIM::ENERGY_UNIT::eV, KIM::CHARGE_UNIT::unused,
                         KIM::TEMPERATURE_UNIT::unused, KIM::TIME_UNIT::unused) ||
        create->SetModelNumbering(KIM::NUMBERING::zeroBased)) {
        return fail("atomfp: cannot set units and numbering");
    }
    for (size_t code = 0; code < buffer->species.size(); ++code) {
        const int32_t z = buffer->species[code];
        const auto mapped = species_names.find(z);
        const std::string symbol =
            mapped != species_names.end() ? mapped->second : atomfp_interfaces::element_symbol(z);
        if (symbol.empty()) return fail("atomfp: the model has species Z = " + std::to_string(z));
        if (create->SetSpeciesCode(KIM::SpeciesName(symbol), static_cast<int>(code))) {
            return fail("atomfp: cannot register species " + symbol);
        }
    }
    create->SetInfluenceDistancePointer(&buffer->cutoff);
    create->SetNeighborListPointers(1, &buffer->cutoff, &buffer->will_not_request_ghost_neighbours);
    if (create->SetParameterPointer(1, &buffer->uncertainty_threshold, "uncertainty_threshold",
                                    "warn in the KIM log when an atom's posterior energy variance exceeds this (eV^2; "
                                    "0, the default, is off; needs a model with a posterior covariance)") ||
        create->SetParameterPointer(1, &buffer->uncertainty_stride, "uncertainty_stride",
                                    "check the threshold every this many computes (default 1)")) {
        return fail("atomfp: cannot publish the parameters");
    }

    using namespace KIM::MODEL_ROUTINE_NAME;
    const KIM::LanguageName cpp = KIM::LANGUAGE_NAME::cpp;
    if (create->SetRoutinePointer(ComputeArgumentsCreate, cpp, true,
                                  reinterpret_cast<KIM::Function*>(compute_arguments_create)) ||
        create->SetRoutinePointer(ComputeArgumentsDestroy, cpp, true,
                                  reinterpret_cast<KIM::Function*>(compute_arguments_destroy)) ||
        create->SetRoutinePointer(Compute, cpp, true, reinterpret_cast<KIM::Function*>(compute)) ||
        create->SetRoutinePointer(Refresh, cpp, true, reinterpret_cast<KIM::Function*>(refresh)) ||
        create->SetRoutinePointer(Destroy, cpp, true, reinterpret_cast<KIM::Function*>(destroy))) {
        return fail("atomfp: cannot register the model routines");
    }
    create->SetModelBufferPointer(buffer.release());
    return false;
}
