#include "atomfp.h"

#include "analysis/feature_space.hpp"
#include "analysis/manifold.hpp"
#include "analysis/sensitivity.hpp"
#include "capi/guard.hpp"
#include "core/simd.hpp"
#include "core/json_spec.hpp"
#include "core/neighbour_list.hpp"
#include "core/parallel.hpp"
#include "descriptors/factory.hpp"
#include "io/extxyz.hpp"
#include "models/model_file.hpp"
#include "models/trainer.hpp"

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>

static_assert(ATOMFP_ERROR_INVALID_ARGUMENT == static_cast<int>(atomfp::Status::invalid_argument));
static_assert(ATOMFP_ERROR_JSON == static_cast<int>(atomfp::Status::json_error));
static_assert(ATOMFP_ERROR_BUFFER_TOO_SMALL == static_cast<int>(atomfp::Status::buffer_too_small));
static_assert(ATOMFP_ERROR_NEIGHBOURS == static_cast<int>(atomfp::Status::neighbours));
static_assert(ATOMFP_ERROR_IO == static_cast<int>(atomfp::Status::io));
static_assert(ATOMFP_ERROR_FORMAT == static_cast<int>(atomfp::Status::format));
static_assert(ATOMFP_ERROR_LINALG == static_cast<int>(atomfp::Status::linalg));
static_assert(ATOMFP_ERROR_OUT_OF_MEMORY == static_cast<int>(atomfp::Status::out_of_memory));
static_assert(ATOMFP_ERROR_SPECIES == static_cast<int>(atomfp::Status::species));
static_assert(ATOMFP_ERROR_NOT_AVAILABLE == static_cast<int>(atomfp::Status::not_available));
static_assert(ATOMFP_ERROR_INTERNAL == static_cast<int>(atomfp::Status::internal));

struct atomfp_neighbours_t {
    atomfp::NeighbourList list;
};

struct atomfp_descriptor_t {
    std::unique_ptr<atomfp::Descriptor> impl;
};

struct atomfp_frames_t {
    std::vector<atomfp::Frame> frames;
    std::vector<std::array<int32_t, 3>> pbc;
};

struct atomfp_model_t {
    atomfp::Model impl;
};

struct atomfp_trainer_t {
    atomfp::TrainingSettings settings;
    std::vector<atomfp::Frame> frames;
    std::optional<atomfp::TrainingSummary> summary;
};

namespace atomfp::capi {

namespace {
thread_local std::string last_error;
}

void set_last_error(const std::string& message) { last_error = message; }

void copy_string(const std::string& text, char* buffer, int64_t length, int64_t* required_length) {
    const int64_t needed = static_cast<int64_t>(text.size()) + 1;
    if (length < 0) fail(Status::invalid_argument, "buffer_len must be >= 0, got ", length);
    if (length > 0) require_pointer(buffer, "buffer");
    if (required_length) *required_length = needed;
    if (length < needed) {
        fail(Status::buffer_too_small, "the buffer holds ", length, " bytes but ", needed, " are needed");
    }
    std::memcpy(buffer, text.c_str(), static_cast<std::size_t>(needed));
}

// The public struct mirrors the internal view field by field; a field added to one and not the
// other, or reordered, must fail the build rather than be copied wrongly.
#define ATOMFP_SAME_FIELD(field)                                                                       \
    static_assert(offsetof(atomfp_system_t, field) == offsetof(SystemView, field) &&                   \
                      std::is_same_v<decltype(atomfp_system_t::field), decltype(SystemView::field)>,   \
                  "atomfp_system_t and SystemView differ in " #field)
static_assert(std::is_standard_layout_v<SystemView> && sizeof(SystemView) == sizeof(atomfp_system_t),
              "atomfp_system_t and SystemView differ in size");
ATOMFP_SAME_FIELD(n_atoms);
ATOMFP_SAME_FIELD(positions);
ATOMFP_SAME_FIELD(species);
ATOMFP_SAME_FIELD(cell);
ATOMFP_SAME_FIELD(n_centers);
ATOMFP_SAME_FIELD(centers);
ATOMFP_SAME_FIELD(offsets);
ATOMFP_SAME_FIELD(neighbours);
ATOMFP_SAME_FIELD(cell_shifts);
#undef ATOMFP_SAME_FIELD

SystemView to_view(const atomfp_system_t* system) {
    require_pointer(system, "system");
    SystemView view;
    view.n_atoms = system->n_atoms;
    view.positions = system->positions;
    view.species = system->species;
    view.cell = system->cell;
    view.n_centers = system->n_centers;
    view.centers = system->centers;
    view.offsets = system->offsets;
    view.neighbours = system->neighbours;
    view.cell_shifts = system->cell_shifts;
    return view;
}

const Descriptor& checked(const atomfp_descriptor_t* descriptor) {
    require_pointer(descriptor, "descriptor");
    return *descriptor->impl;
}

// A caller's row-major matrix, checked and copied.
FeatureMatrix borrowed_matrix(int64_t rows, int64_t cols, const double* values, const char* name) {
    require_pointer(values, name);
    if (rows < 1 || cols < 1) fail(Status::invalid_argument, name, " must have at least one sample and one feature, got ", rows, " x ", cols);
    FeatureMatrix x(rows, cols);
    std::copy(values, values + rows * cols, x.values.begin());
    return x;
}

}  // namespace atomfp::capi

using atomfp::fail;
using atomfp::Status;
using atomfp::capi::borrowed_matrix;
using atomfp::capi::checked;
using atomfp::capi::guard;

namespace {

void require_finite(const double* values, int64_t n, const char* name) {
    for (int64_t k = 0; k < n; ++k)
        if (!std::isfinite(values[k])) fail(Status::invalid_argument, name, "[", k, "] is not finite");
}

atomfp::Mat3 matrix_of(const double* values) {
    atomfp::Mat3 m;
    std::copy_n(values, 9, m.begin());
    return m;
}

}  // namespace

using atomfp::capi::require_pointer;

extern "C" {

const char* atomfp_last_error(void) { return atomfp::capi::last_error.c_str(); }

const char* atomfp_status_name(atomfp_status_t status) {
    switch (status) {
    case ATOMFP_OK: return "ATOMFP_OK";
    case ATOMFP_ERROR_INVALID_ARGUMENT: return "ATOMFP_ERROR_INVALID_ARGUMENT";
    case ATOMFP_ERROR_JSON: return "ATOMFP_ERROR_JSON";
    case ATOMFP_ERROR_BUFFER_TOO_SMALL: return "ATOMFP_ERROR_BUFFER_TOO_SMALL";
    case ATOMFP_ERROR_NEIGHBOURS: return "ATOMFP_ERROR_NEIGHBOURS";
    case ATOMFP_ERROR_IO: return "ATOMFP_ERROR_IO";
    case ATOMFP_ERROR_FORMAT: return "ATOMFP_ERROR_FORMAT";
    case ATOMFP_ERROR_LINALG: return "ATOMFP_ERROR_LINALG";
    case ATOMFP_ERROR_OUT_OF_MEMORY: return "ATOMFP_ERROR_OUT_OF_MEMORY";
    case ATOMFP_ERROR_SPECIES: return "ATOMFP_ERROR_SPECIES";
    case ATOMFP_ERROR_NOT_AVAILABLE: return "ATOMFP_ERROR_NOT_AVAILABLE";
    case ATOMFP_ERROR_INTERNAL: return "ATOMFP_ERROR_INTERNAL";
    default: return "ATOMFP_UNKNOWN_STATUS";
    }
}

atomfp_status_t atomfp_version(int* major, int* minor, int* patch) {
    if (major) *major = ATOMFP_VERSION_MAJOR;
    if (minor) *minor = ATOMFP_VERSION_MINOR;
    if (patch) *patch = ATOMFP_VERSION_PATCH;
    return ATOMFP_OK;
}

const char* atomfp_version_string(void) { return ATOMFP_VERSION_STRING; }

const char* atomfp_simd_kernels(void) { return atomfp::simd_kernels(); }

atomfp_status_t atomfp_neighbours_build(int64_t n_atoms, const double* positions, const int32_t* species,
                                        const double* cell, const int32_t* pbc, double cutoff,
                                        atomfp_neighbours_t** out) {
    return guard([&] {
        require_pointer(out, "out");
        auto handle = std::make_unique<atomfp_neighbours_t>();
        handle->list = atomfp::build_neighbour_list(n_atoms, positions, species, cell, pbc, cutoff);
        *out = handle.release();
    });
}

atomfp_status_t atomfp_neighbours_system(const atomfp_neighbours_t* list, atomfp_system_t* view) {
    return guard([&] {
        require_pointer(list, "list");
        require_pointer(view, "view");
        const atomfp::SystemView v = list->list.view();
        *view = atomfp_system_t{v.n_atoms, v.positions, v.species, v.cell, v.n_centers,
                                v.centers, v.offsets,   v.neighbours, v.cell_shifts};
    });
}

void atomfp_neighbours_free(atomfp_neighbours_t* list) { delete list; }

atomfp_status_t atomfp_descriptor_create(const char* json, atomfp_descriptor_t** out) {
    return guard([&] {
        require_pointer(json, "json");
        require_pointer(out, "out");
        auto handle = std::make_unique<atomfp_descriptor_t>();
        handle->impl = atomfp::create_descriptor(std::string(json));
        *out = handle.release();
    });
}

void atomfp_descriptor_free(atomfp_descriptor_t* descriptor) { delete descriptor; }

atomfp_status_t atomfp_descriptor_types(char* buffer, int64_t buffer_len, int64_t* required_len) {
    return guard([&] { atomfp::capi::copy_string(atomfp::descriptor_types().dump(), buffer, buffer_len, required_len); });
}

atomfp_status_t atomfp_descriptor_parameters(const atomfp_descriptor_t* descriptor, char* buffer,
                                             int64_t buffer_len, int64_t* required_len) {
    return guard([&] { atomfp::capi::copy_string(checked(descriptor).parameters().dump(), buffer, buffer_len, required_len); });
}

atomfp_status_t atomfp_descriptor_feature_count(const atomfp_descriptor_t* descriptor, int64_t* n_features) {
    return guard([&] {
        const atomfp::Descriptor& d = checked(descriptor);
        require_pointer(n_features, "n_features");
        *n_features = d.feature_count();
    });
}

atomfp_status_t atomfp_descriptor_cutoff(const atomfp_descriptor_t* descriptor, double* cutoff) {
    return guard([&] {
        const atomfp::Descriptor& d = checked(descriptor);
        require_pointer(cutoff, "cutoff");
        *cutoff = d.cutoff();
    });
}

atomfp_status_t atomfp_descriptor_feature_label(const atomfp_descriptor_t* descriptor, int64_t index, char* buffer,
                                                int64_t buffer_len, int64_t* required_len) {
    return guard([&] {
        const atomfp::Descriptor& d = checked(descriptor);
        if (index < 0 || index >= d.feature_count()) {
            fail(Status::invalid_argument, "feature index ", index, " is out of range [0, ", d.feature_count(), ")");
        }
        atomfp::capi::copy_string(d.feature_label(index), buffer, buffer_len, required_len);
    });
}

atomfp_status_t atomfp_descriptor_compute(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                          double* features, double* gradients) {
    return guard([&] { atomfp::compute(checked(descriptor), atomfp::capi::to_view(system), features, gradients); });
}

atomfp_status_t atomfp_descriptor_contract(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                           const double* energy_derivatives, double* features, double* forces,
                                           double* virial) {
    return guard([&] {
        const atomfp::Descriptor& d = checked(descriptor);
        const atomfp::ValidatedSystem validated(atomfp::capi::to_view(system));
        const atomfp::SystemView& view = validated.view();
        const int64_t n_features = d.feature_count();
        require_pointer(energy_derivatives, "energy_derivatives");
        require_finite(energy_derivatives, view.n_centers * n_features, "energy_derivatives");
        std::vector<double> contracted(3 * view.n_gradient_blocks());
        atomfp::contract(d, validated, energy_derivatives, features, contracted.data());
        atomfp::forces_and_virial(view, contracted.data(), forces, virial);
    });
}

atomfp_status_t atomfp_sensitivity_size(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                        int64_t center, int64_t* n_env_atoms) {
    return guard([&] {
        require_pointer(n_env_atoms, "n_env_atoms");
        const atomfp::Descriptor& d = checked(descriptor);
        *n_env_atoms = atomfp::environment_cluster(atomfp::capi::to_view(system), center, d.cutoff()).n_atoms;
    });
}

atomfp_status_t atomfp_sensitivity_matrix(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                          int64_t center, int32_t flags, double* sensitivity) {
    return guard([&] {
        require_pointer(sensitivity, "sensitivity");
        const atomfp::EnvironmentJacobian j = atomfp::environment_jacobian(checked(descriptor), atomfp::capi::to_view(system), center);
        const std::vector<double> S = atomfp::sensitivity_matrix(j, flags);
        std::copy(S.begin(), S.end(), sensitivity);
    });
}

atomfp_status_t atomfp_sensitivity_spectrum(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                            int64_t center, int32_t flags, double* eigenvalues, double* eigenvectors) {
    return guard([&] {
        require_pointer(eigenvalues, "eigenvalues");
        const atomfp::EnvironmentJacobian j = atomfp::environment_jacobian(checked(descriptor), atomfp::capi::to_view(system), center);
        std::vector<double> values, vectors;
        atomfp::sensitivity_spectrum(j, flags, values, eigenvectors ? &vectors : nullptr);
        std::copy(values.begin(), values.end(), eigenvalues);
        if (eigenvectors) std::copy(vectors.begin(), vectors.end(), eigenvectors);
    });
}

atomfp_status_t atomfp_blind_spot_indices(const atomfp_descriptor_t* descriptor, const atomfp_system_t* system,
                                         double threshold, double* index, int64_t* below) {
    return guard([&] {
        require_pointer(index, "index");
        const atomfp::Descriptor& d = checked(descriptor);
        const atomfp::ValidatedSystem validated(atomfp::capi::to_view(system));
        const atomfp::SystemView& view = validated.view();
        if (!(threshold >= 0.0) || !(threshold < 1.0)) fail(Status::invalid_argument, "threshold must be in [0, 1), got ", threshold);
        std::vector<atomfp::BlindSpot> spots(static_cast<std::size_t>(view.n_centers));
        // One eigenproblem per centre: worth threads from a handful of centres on.
        atomfp::parallel_for(view.n_centers, 1, view.n_centers > 4, [&](int64_t c) { spots[c] = atomfp::blind_spot(d, view, c, threshold); });
        for (int64_t c = 0; c < view.n_centers; ++c) {
            index[c] = spots[c].index;
            if (below) below[c] = spots[c].below;
        }
    });
}

atomfp_status_t atomfp_manifold_trace(const atomfp_descriptor_t* descriptor, int64_t n_probes,
                                      const atomfp_descriptor_t* const* probes, const atomfp_system_t* system,
                                      int64_t center, const char* options, int64_t max_frames, int64_t* n_frames,
                                      int32_t* species, double* positions, double* eigenvalues, double* displacement,
                                      double* distances, double* random_distances) {
    return guard([&] {
        require_pointer(n_frames, "n_frames");
        const atomfp::Descriptor& traced = checked(descriptor);
        if (n_probes < 0) fail(Status::invalid_argument, "n_probes must be >= 0, got ", n_probes);
        if (n_probes > 0) require_pointer(probes, "probes");
        std::vector<const atomfp::Descriptor*> probe_list;
        for (int64_t p = 0; p < n_probes; ++p) {
            if (!probes[p]) fail(Status::invalid_argument, "probes[", p, "] is NULL");
            probe_list.push_back(probes[p]->impl.get());
        }
        const atomfp::ManifoldOptions parsed = atomfp::ManifoldOptions::parse(options ? options : "");
        if (max_frames < parsed.steps + 1) {
            *n_frames = parsed.steps + 1;
            fail(Status::buffer_too_small, "max_frames is ", max_frames, " but a trace of ", parsed.steps, " steps needs ",
                 parsed.steps + 1, " frames");
        }
        const atomfp::ManifoldTrace trace =
            atomfp::trace_manifold(traced, probe_list, atomfp::capi::to_view(system), center, parsed);
        auto copy = [](const auto& from, auto* to) {
            if (to) std::copy(from.begin(), from.end(), to);
        };
        copy(trace.species, species);
        copy(trace.positions, positions);
        copy(trace.eigenvalues, eigenvalues);
        copy(trace.displacement, displacement);
        copy(trace.distances, distances);
        copy(trace.random_distances, random_distances);
        *n_frames = trace.n_frames();
    });
}

atomfp_status_t atomfp_frames_read(const char* path, atomfp_frames_t** out) {
    return guard([&] {
        require_pointer(path, "path");
        require_pointer(out, "out");
        auto frames = std::make_unique<atomfp_frames_t>();
        frames->frames = atomfp::read_extxyz(path);
        for (const atomfp::Frame& frame : frames->frames) {
            frames->pbc.push_back({frame.pbc[0], frame.pbc[1], frame.pbc[2]});
        }
        *out = frames.release();
    });
}

void atomfp_frames_free(atomfp_frames_t* frames) { delete frames; }

atomfp_status_t atomfp_frames_count(const atomfp_frames_t* frames, int64_t* n_frames) {
    return guard([&] {
        require_pointer(frames, "frames");
        require_pointer(n_frames, "n_frames");
        *n_frames = static_cast<int64_t>(frames->frames.size());
    });
}

atomfp_status_t atomfp_frames_get(const atomfp_frames_t* frames, int64_t index, int64_t* n_atoms,
                                  const double** positions, const int32_t** species, const double** cell,
                                  const int32_t** pbc) {
    return guard([&] {
        require_pointer(frames, "frames");
        const int64_t count = static_cast<int64_t>(frames->frames.size());
        if (index < 0 || index >= count) {
            fail(Status::invalid_argument, "frame index ", index, " is out of range [0, ", count, ")");
        }
        const atomfp::Frame& frame = frames->frames[static_cast<size_t>(index)];
        if (n_atoms) *n_atoms = frame.size();
        if (positions) *positions = frame.positions.data();
        if (species) *species = frame.species.data();
        if (cell) *cell = frame.cell ? frame.cell->data() : nullptr;
        if (pbc) *pbc = frames->pbc[static_cast<size_t>(index)].data();
    });
}


atomfp_status_t atomfp_feature_space_compare(int64_t n_samples, int64_t n_features_a, const double* a,
                                             int64_t n_features_b, const double* b, const char* options, double* gfre,
                                             double* gfrd, double* lfre, double* pointwise, int64_t* n_test) {
    return guard([&] {
        const atomfp::FeatureMatrix x = borrowed_matrix(n_samples, n_features_a, a, "a");
        const atomfp::FeatureMatrix y = borrowed_matrix(n_samples, n_features_b, b, "b");
        const atomfp::ComparisonOptions settings = atomfp::ComparisonOptions::parse(options ? options : "");
        const int64_t tests = n_samples / 2;
        if (!gfre && !gfrd && !lfre && !pointwise) {
            if (n_test) *n_test = tests;
            return;
        }
        atomfp::ComparisonOptions wanted = settings;
        if (!lfre) wanted.lfre_neighbours = 0;
        const atomfp::TwoWayComparison both = atomfp::compare_both_ways(x, y, wanted, gfrd != nullptr);
        if (gfre) gfre[0] = both.global[0].test_error, gfre[1] = both.global[1].test_error;
        if (gfrd) gfrd[0] = both.distortion[0], gfrd[1] = both.distortion[1];
        if (lfre) lfre[0] = both.local[0].test_error, lfre[1] = both.local[1].test_error;
        if (pointwise) {
            std::copy(both.global[0].pointwise.begin(), both.global[0].pointwise.end(), pointwise);
            std::copy(both.global[1].pointwise.begin(), both.global[1].pointwise.end(), pointwise + tests);
        }
        if (n_test) *n_test = tests;
    });
}

atomfp_status_t atomfp_feature_select(int64_t n_samples, int64_t n_features, const double* x, const char* method,
                                      int64_t n_select, int64_t* selected, int64_t* n_selected) {
    return guard([&] {
        require_pointer(method, "method");
        require_pointer(selected, "selected");
        require_pointer(n_selected, "n_selected");
        const atomfp::FeatureMatrix matrix = atomfp::standardized(borrowed_matrix(n_samples, n_features, x, "x"), "x");
        const std::string name = method;
        std::vector<int64_t> chosen;
        if (name == "cur") {
            chosen = atomfp::cur_select_columns(matrix, n_select);
        } else if (name == "fps_features") {
            chosen = atomfp::fps_select_columns(matrix, n_select);
        } else if (name == "fps_samples") {
            chosen = atomfp::fps_select_rows(matrix, n_select);
        } else {
            fail(Status::invalid_argument, "method must be \"cur\", \"fps_features\" or \"fps_samples\", got \"", name, "\"");
        }
        std::copy(chosen.begin(), chosen.end(), selected);
        *n_selected = static_cast<int64_t>(chosen.size());
    });
}

atomfp_status_t atomfp_model_load(const char* path, atomfp_model_t** out) {
    return guard([&] {
        require_pointer(path, "path");
        require_pointer(out, "out");
        *out = new atomfp_model_t{atomfp::load_model(path)};
    });
}

atomfp_status_t atomfp_model_save(const atomfp_model_t* model, const char* path) {
    return guard([&] {
        require_pointer(model, "model");
        require_pointer(path, "path");
        atomfp::save_model(model->impl, path);
    });
}

void atomfp_model_free(atomfp_model_t* model) { delete model; }

atomfp_status_t atomfp_model_cutoff(const atomfp_model_t* model, double* cutoff) {
    return guard([&] {
        require_pointer(model, "model");
        require_pointer(cutoff, "cutoff");
        *cutoff = model->impl.cutoff();
    });
}

atomfp_status_t atomfp_model_species(const atomfp_model_t* model, int32_t* species, int64_t capacity, int64_t* n_species) {
    return guard([&] {
        require_pointer(model, "model");
        require_pointer(n_species, "n_species");
        if (capacity < 0) fail(Status::invalid_argument, "capacity must be >= 0, got ", capacity);
        const std::vector<int32_t> list = model->impl.species();
        const int64_t n = static_cast<int64_t>(list.size());
        *n_species = n;
        if (capacity < n) fail(Status::buffer_too_small, "the model has ", n, " species but the buffer holds ", capacity);
        if (n > 0) require_pointer(species, "species");
        std::copy(list.begin(), list.end(), species);
    });
}

atomfp_status_t atomfp_model_header(const atomfp_model_t* model, char* buffer, int64_t buffer_len, int64_t* required_len) {
    return guard([&] {
        require_pointer(model, "model");
        atomfp::capi::copy_string(atomfp::model_header(model->impl).dump(), buffer, buffer_len, required_len);
    });
}

atomfp_status_t atomfp_model_predict(const atomfp_model_t* model, const atomfp_system_t* system, double* energy,
                                     double* center_energies, double* forces, double* virial) {
    return guard([&] {
        require_pointer(model, "model");
        model->impl.predict(atomfp::capi::to_view(system), energy, center_energies, forces, virial);
    });
}

atomfp_status_t atomfp_model_extrapolation(const atomfp_model_t* model, const atomfp_system_t* system,
                                           int64_t* features_outside, double* largest_excess) {
    return guard([&] {
        require_pointer(model, "model");
        require_pointer(features_outside, "features_outside");
        const std::vector<atomfp::Extrapolation> flags = model->impl.extrapolation(atomfp::capi::to_view(system));
        for (std::size_t c = 0; c < flags.size(); ++c) {
            features_outside[c] = flags[c].features_outside;
            if (largest_excess) largest_excess[c] = flags[c].largest_excess;
        }
    });
}

atomfp_status_t atomfp_model_predict_variance(const atomfp_model_t* model, const atomfp_system_t* system,
                                              double* center_variances, double* energy_variance) {
    return guard([&] {
        require_pointer(model, "model");
        model->impl.predict_variance(atomfp::capi::to_view(system), center_variances, energy_variance);
    });
}

atomfp_status_t atomfp_model_variance_gradient(const atomfp_model_t* model, const atomfp_system_t* system,
                                               const double* coefficients, double* gradient, double* virial) {
    return guard([&] {
        require_pointer(model, "model");
        model->impl.variance_gradient(atomfp::capi::to_view(system), coefficients, gradient, virial);
    });
}

}  // extern "C"

atomfp_status_t atomfp_trainer_create(const char* config_json, atomfp_trainer_t** out) {
    return guard([&] {
        require_pointer(config_json, "config_json");
        require_pointer(out, "out");
        *out = new atomfp_trainer_t{atomfp::TrainingSettings::parse(atomfp::parse_json(config_json)), {}, std::nullopt};
    });
}

void atomfp_trainer_free(atomfp_trainer_t* trainer) { delete trainer; }

atomfp_status_t atomfp_trainer_add_structure(atomfp_trainer_t* trainer, int64_t n_atoms, const double* positions,
                                             const int32_t* species, const double* cell, const int32_t* pbc,
                                             const double* energy, const double* forces, const double* virial) {
    return guard([&] {
        require_pointer(trainer, "trainer");
        require_pointer(positions, "positions");
        require_pointer(species, "species");
        if (n_atoms < 1 || n_atoms > atomfp::max_system_atoms) {
            fail(Status::invalid_argument, "n_atoms must be in [1, ", atomfp::max_system_atoms, "], got ", n_atoms);
        }
        require_finite(positions, 3 * n_atoms, "positions");
        atomfp::Frame frame;
        frame.species.assign(species, species + n_atoms);
        frame.positions.assign(positions, positions + 3 * n_atoms);
        if (cell) {
            require_finite(cell, 9, "cell");
            frame.cell = matrix_of(cell);
            for (int a = 0; a < 3; ++a) frame.pbc[a] = pbc ? pbc[a] != 0 : true;
        } else if (pbc) {
            for (int a = 0; a < 3; ++a)
                if (pbc[a]) fail(Status::invalid_argument, "pbc[", a, "] is periodic but no cell was given");
        }
        if (energy) {
            require_finite(energy, 1, "energy");
            frame.energy = *energy;
        }
        if (forces) {
            require_finite(forces, 3 * n_atoms, "forces");
            frame.forces.assign(forces, forces + 3 * n_atoms);
        }
        if (virial) {
            require_finite(virial, 9, "virial");
            frame.virial = matrix_of(virial);
        }
        trainer->frames.push_back(std::move(frame));
    });
}

atomfp_status_t atomfp_trainer_set_structure_keys(atomfp_trainer_t* trainer, int64_t index, const char* keys_json) {
    return guard([&] {
        require_pointer(trainer, "trainer");
        require_pointer(keys_json, "keys_json");
        const int64_t n = static_cast<int64_t>(trainer->frames.size());
        if (index < 0 || index >= n) fail(Status::invalid_argument, "index ", index, " is not a structure: ", n, " added");
        atomfp::Frame& frame = trainer->frames[static_cast<std::size_t>(index)];
        atomfp::Frame changed = frame;  // an error leaves the structure as it was
        atomfp::set_structure_keys(changed, atomfp::parse_json(keys_json));
        frame = std::move(changed);
    });
}

atomfp_status_t atomfp_trainer_size(const atomfp_trainer_t* trainer, int64_t* n_structures) {
    return guard([&] {
        require_pointer(trainer, "trainer");
        require_pointer(n_structures, "n_structures");
        *n_structures = static_cast<int64_t>(trainer->frames.size());
    });
}

atomfp_status_t atomfp_trainer_train(atomfp_trainer_t* trainer, atomfp_model_t** out) {
    return guard([&] {
        require_pointer(trainer, "trainer");
        require_pointer(out, "out");
        if (trainer->frames.empty()) fail(Status::invalid_argument, "the trainer has no structures");
        atomfp::TrainingSummary summary;
        auto model = std::make_unique<atomfp_model_t>(atomfp_model_t{atomfp::train(trainer->frames, trainer->settings, &summary)});
        trainer->summary = summary;
        *out = model.release();
    });
}

atomfp_status_t atomfp_trainer_summary(const atomfp_trainer_t* trainer, char* buffer, int64_t buffer_len,
                                       int64_t* required_len) {
    return guard([&] {
        require_pointer(trainer, "trainer");
        if (!trainer->summary) fail(Status::invalid_argument, "the trainer has not fitted a model yet");
        atomfp::capi::copy_string(trainer->summary->to_json().dump(), buffer, buffer_len, required_len);
    });
}
