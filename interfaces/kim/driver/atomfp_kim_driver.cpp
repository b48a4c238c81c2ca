// A KIM API model driver whose parameter file is an atomfp model file. It talks to atomfp only
// through the public headers: the C++ wrapper atomfp.hpp owns the model handle and turns failures
// into exceptions, which are logged here. The KIM neighbour list (full, ghost atoms, no image
// shifts) becomes an atomfp_system_t whose centres are the contributing particles, and the model's
// prediction fills KIM's optional outputs. Units are Å and eV; other requested units are refused at
// creation. The model has no mutable parameters, so there is no Refresh routine (KIM requires
// published parameters for one).
#include <atomfp.hpp>

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

    using namespace KIM::MODEL_ROUTINE_NAME;
    const KIM::LanguageName cpp = KIM::LANGUAGE_NAME::cpp;
    if (create->SetRoutinePointer(ComputeArgumentsCreate, cpp, true,
                                  reinterpret_cast<KIM::Function*>(compute_arguments_create)) ||
        create->SetRoutinePointer(ComputeArgumentsDestroy, cpp, true,
                                  reinterpret_cast<KIM::Function*>(compute_arguments_destroy)) ||
        create->SetRoutinePointer(Compute, cpp, true, reinterpret_cast<KIM::Function*>(compute)) ||
        create->SetRoutinePointer(Destroy, cpp, true, reinterpret_cast<KIM::Function*>(destroy))) {
        return fail("atomfp: cannot register the model routines");
    }
    create->SetModelBufferPointer(buffer.release());
    return false;
}
