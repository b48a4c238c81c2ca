/* Reference results straight from the C API (see c_reference.c). Array layouts are the C API's. */
#ifndef ATOMFP_TESTS_C_REFERENCE_H
#define ATOMFP_TESTS_C_REFERENCE_H

#include <atomfp.h>

atomfp_status_t reference_features(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell, double* features, double* gradients);

atomfp_status_t reference_spectrum(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   const double* cell, int64_t center, int32_t flags, double* eigenvalues,
                                   double* eigenvectors);

/* An open cluster, no probes. */
atomfp_status_t reference_manifold(const char* spec, int64_t n_atoms, const double* positions, const int32_t* species,
                                   int64_t center, const char* options, int64_t max_frames, int64_t* n_frames,
                                   double* displacement, double* distances);

atomfp_status_t reference_predict(const char* model_path, int64_t n_atoms, const double* positions,
                                  const int32_t* species, const double* cell, double* energy, double* center_energies,
                                  double* forces, double* virial);

/* Trains on n_structures configurations of the same atoms (positions [n_structures][n_atoms][3],
 * energies [n_structures], forces like positions), then predicts the first one. */
atomfp_status_t reference_train_predict(const char* config, int64_t n_structures, int64_t n_atoms,
                                        const double* positions, const int32_t* species, const double* cell,
                                        const double* energies, const double* forces, double* energy,
                                        double* predicted_forces);

#endif
