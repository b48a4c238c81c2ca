/* Reference results computed directly through the C API, for the tests of the Fortran module and
 * of the Python package: the same inputs through the C API and through a binding must give the
 * same numbers bit for bit. Each routine builds its own neighbour list with
 * atomfp_neighbours_build (cutoff of the descriptor or model) and returns a status. */
#include "c_reference.h"

#include <stddef.h>

static atomfp_status_t build_list(int64_t n_atoms, const double* positions, const int32_t* species, const double* cell,
                                  double cutoff, atomfp_neighbours_t** list, atomfp_system_t* system) {
    atomfp_status_t status = atomfp_neighbours_build(n_atoms, positions, species, cell, NULL, cutoff, list);
    if (status != ATOMFP_OK) return status;
    return atomfp_neighbours_system(*list, system);
}

/* A descriptor from `spec` and the list of the atoms for its cutoff; on failure whatever was made
 * is left for release_descriptor_and_list. */
static atomfp_status_t descriptor_and_list(const char* spec, int64_t n_atoms, const double* positions,
                                           const int32_t* species, const double* cell, atomfp_descriptor_t** descriptor,
                                           atomfp_neighbours_t** list, atomfp_system_t* system) {
    double cutoff = 0;
    atomfp_status_t status = atomfp_descriptor_create(spec, descriptor);
    if (status == ATOMFP_OK) status = atomfp_descriptor_cutoff(*descriptor, &cutoff);
    if (status == ATOMFP_OK) status = build_list(n_atoms, positions, species, cell, cutoff, list, system);
    return status;
}

static atomfp_status_t release_descriptor_and_list(atomfp_descriptor_t* descriptor, atomfp_neighbours_t* list,
                                                   atomfp_status_t status) {
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(descriptor);
    return status;
}

atomfp_status_t reference_features(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell, double* features, double* gradients) {
    atomfp_descriptor_t* descriptor = NULL;
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    atomfp_status_t status = descriptor_and_list(spec, n_atoms, positions, species, cell, &descriptor, &list, &system);
    if (status == ATOMFP_OK) status = atomfp_descriptor_compute(descriptor, &system, features, gradients);
    return release_descriptor_and_list(descriptor, list, status);
}

atomfp_status_t reference_spectrum(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell, int64_t center, int32_t flags, double* eigenvalues,
                                   double* eigenvectors) {
    atomfp_descriptor_t* descriptor = NULL;
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    atomfp_status_t status = descriptor_and_list(spec, n_atoms, positions, species, cell, &descriptor, &list, &system);
    if (status == ATOMFP_OK)
        status = atomfp_sensitivity_spectrum(descriptor, &system, center, flags, eigenvalues, eigenvectors);
    return release_descriptor_and_list(descriptor, list, status);
}

atomfp_status_t reference_manifold(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   int64_t center, const char* options, int64_t max_frames, int64_t* n_frames,
                                   double* displacement, double* distances) {
    atomfp_descriptor_t* descriptor = NULL;
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    atomfp_status_t status = descriptor_and_list(spec, n_atoms, positions, species, NULL, &descriptor, &list, &system);
    if (status == ATOMFP_OK)
        status = atomfp_manifold_trace(descriptor, 0, NULL, &system, center, options, max_frames, n_frames, NULL, NULL,
                                       NULL, displacement, distances, NULL);
    return release_descriptor_and_list(descriptor, list, status);
}

static atomfp_status_t predict_with(const atomfp_model_t* model, int64_t n_atoms, const double* positions,
                                    const int32_t* species, const double* cell, double* energy, double* center_energies,
                                    double* forces, double* virial) {
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    double cutoff = 0;
    atomfp_status_t status = atomfp_model_cutoff(model, &cutoff);
    if (status == ATOMFP_OK) status = build_list(n_atoms, positions, species, cell, cutoff, &list, &system);
    if (status == ATOMFP_OK) status = atomfp_model_predict(model, &system, energy, center_energies, forces, virial);
    atomfp_neighbours_free(list);
    return status;
}

atomfp_status_t reference_predict(const char* model_path, int64_t n_atoms, const double* positions,
                                  const int32_t* species, const double* cell, double* energy, double* center_energies,
                                  double* forces, double* virial) {
    atomfp_model_t* model = NULL;
    atomfp_status_t status = atomfp_model_load(model_path, &model);
    if (status == ATOMFP_OK)
        status = predict_with(model, n_atoms, positions, species, cell, energy, center_energies, forces, virial);
    atomfp_model_free(model);
    return status;
}

atomfp_status_t reference_train_predict(const char* config, int64_t n_structures, int64_t n_atoms,
                                        const double* positions, const int32_t* species, const double* cell,
                                        const double* energies, const double* forces, double* energy,
                                        double* predicted_forces) {
    atomfp_trainer_t* trainer = NULL;
    atomfp_model_t* model = NULL;
    atomfp_status_t status = atomfp_trainer_create(config, &trainer);
    for (int64_t s = 0; s < n_structures && status == ATOMFP_OK; ++s) {
        status = atomfp_trainer_add_structure(trainer, n_atoms, positions + 3 * n_atoms * s, species, cell, NULL,
                                              energies + s, forces + 3 * n_atoms * s, NULL);
    }
    if (status == ATOMFP_OK) status = atomfp_trainer_train(trainer, &model);
    if (status == ATOMFP_OK)
        status = predict_with(model, n_atoms, positions, species, cell, energy, NULL, predicted_forces, NULL);
    atomfp_model_free(model);
    atomfp_trainer_free(trainer);
    return status;
}
