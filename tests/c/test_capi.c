/* Uses only the public header and the shared library: a C99 host's view of atomfp. */
#include <atomfp.h>

#ifndef ATOMFP_DEPRECATED
#error "atomfp.h must define ATOMFP_DEPRECATED for marking functions that will be removed"
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed = 0, failed = 0;

#define CHECK(condition)                                                                   \
    do {                                                                                   \
        if (condition) {                                                                   \
            ++passed;                                                                      \
        } else {                                                                           \
            ++failed;                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__, __LINE__, \
                    #condition, atomfp_last_error());                                      \
        }                                                                                  \
    } while (0)

/* 8-atom diamond cell, slightly distorted. */
static void diamond(double a, double* positions, double* cell) {
    static const double basis[8][3] = {{0, 0, 0},          {0, 0.5, 0.5},      {0.5, 0, 0.5},      {0.5, 0.5, 0},
                                       {0.25, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.75, 0.25, 0.75}, {0.75, 0.75, 0.25}};
    for (int i = 0; i < 8; ++i)
        for (int k = 0; k < 3; ++k) positions[3 * i + k] = basis[i][k] * a + 0.03 * sin(7.0 * i + 3.0 * k);
    memset(cell, 0, 9 * sizeof(double));
    cell[0] = cell[4] = cell[8] = a;
}

static void compute_features(atomfp_descriptor_t* d, const double* positions, const int32_t* species, const double* cell,
                             double* features) {
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    CHECK(atomfp_neighbours_build(8, positions, species, cell, NULL, 6.5, &list) == ATOMFP_OK);
    CHECK(atomfp_neighbours_system(list, &system) == ATOMFP_OK);
    CHECK(atomfp_descriptor_compute(d, &system, features, NULL) == ATOMFP_OK);
    atomfp_neighbours_free(list);
}

int main(void) {
    int major = 0, minor = 0, patch = 0;
    CHECK(atomfp_version(&major, &minor, &patch) == ATOMFP_OK);
    CHECK(major == ATOMFP_VERSION_MAJOR && minor == ATOMFP_VERSION_MINOR && patch == ATOMFP_VERSION_PATCH);
    CHECK(strcmp(atomfp_version_string(), ATOMFP_VERSION_STRING) == 0);
    CHECK(strncmp(atomfp_simd_kernels(), "avx2", 4) == 0 || strncmp(atomfp_simd_kernels(), "baseline", 8) == 0);

    atomfp_descriptor_t* d = NULL;
    CHECK(atomfp_descriptor_create("{\"type\": \"acsf\", \"species\": [14], \"cutoff\": 5.0}", &d) == ATOMFP_OK);
    int64_t nf = 0;
    CHECK(atomfp_descriptor_feature_count(d, &nf) == ATOMFP_OK && nf == 58);

    double positions[24], cell[9];
    int32_t species[8] = {14, 14, 14, 14, 14, 14, 14, 14};
    diamond(5.431, positions, cell);

    /* features + gradients, and the translation-invariance identity of the centre block */
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    CHECK(atomfp_neighbours_build(8, positions, species, cell, NULL, 5.0, &list) == ATOMFP_OK);
    CHECK(atomfp_neighbours_system(list, &system) == ATOMFP_OK);
    const int64_t n_blocks = system.n_centers + system.offsets[system.n_centers];
    double* features = malloc(sizeof(double) * 8 * nf);
    double* gradients = malloc(sizeof(double) * n_blocks * 3 * nf);
    CHECK(atomfp_descriptor_compute(d, &system, features, gradients) == ATOMFP_OK);
    double worst = 0.0;
    for (int64_t c = 0; c < system.n_centers; ++c) {
        const int64_t first = c + system.offsets[c];
        const int64_t n_listed = system.offsets[c + 1] - system.offsets[c];
        for (int64_t k = 0; k < 3 * nf; ++k) {
            double sum = 0.0;
            for (int64_t b = 0; b <= n_listed; ++b) sum += gradients[(first + b) * 3 * nf + k];
            if (fabs(sum) > worst) worst = fabs(sum);
        }
    }
    CHECK(worst < 1e-12);

    /* a central finite difference on one coordinate, through the public API only */
    double plus[8 * 58], minus[8 * 58];
    const double h = 1e-5;
    positions[3 * 2 + 1] += h;
    compute_features(d, positions, species, cell, plus);
    positions[3 * 2 + 1] -= 2 * h;
    compute_features(d, positions, species, cell, minus);
    positions[3 * 2 + 1] += h;
    double analytic[58] = {0};
    /* d F_0 / d y_2: sum the blocks of centre 0 whose atom is 2, plus nothing from the centre (0 != 2) */
    for (int64_t p = system.offsets[0]; p < system.offsets[1]; ++p) {
        if (system.neighbours[p] != 2) continue;
        const int64_t block = 0 + 1 + p;
        for (int64_t f = 0; f < nf; ++f) analytic[f] += gradients[(block * 3 + 1) * nf + f];
    }
    double scale = 0.0, error = 0.0;
    for (int64_t f = 0; f < nf; ++f) {
        const double fd = (plus[f] - minus[f]) / (2 * h);
        if (fabs(analytic[f]) > scale) scale = fabs(analytic[f]);
        if (fabs(fd - analytic[f]) > error) error = fabs(fd - analytic[f]);
    }
    CHECK(scale > 0.0);
    CHECK(error <= 1e-6 * scale);

    /* errors: status, message and untouched outputs */
    double untouched = 42.0;
    double bad_positions[24];
    memcpy(bad_positions, positions, sizeof bad_positions);
    bad_positions[5] = NAN;
    atomfp_system_t broken = system;
    broken.positions = bad_positions;
    CHECK(atomfp_descriptor_compute(d, &broken, &untouched, NULL) == ATOMFP_ERROR_INVALID_ARGUMENT);
    CHECK(strstr(atomfp_last_error(), "not finite") != NULL);
    CHECK(untouched == 42.0);
    CHECK(atomfp_descriptor_cutoff(NULL, &untouched) == ATOMFP_ERROR_INVALID_ARGUMENT);
    CHECK(untouched == 42.0);
    atomfp_descriptor_t* bad = NULL;
    CHECK(atomfp_descriptor_create("{\"type\": \"acsf\", \"species\": [14], \"eta\": 1}", &bad) == ATOMFP_ERROR_JSON);
    CHECK(strstr(atomfp_last_error(), "unknown key 'eta'") != NULL);
    CHECK(bad == NULL);
    CHECK(atomfp_descriptor_create("{\"type\": \"soap_power_spectrum\", \"species\": [14], \"max_angular\": 21}", &bad) ==
          ATOMFP_ERROR_JSON);
    CHECK(strstr(atomfp_last_error(), "max_angular") != NULL);
    CHECK(atomfp_descriptor_create("{\"type\": \"soap_bispectrum\", \"species\": [14], \"radial_basis\": \"bessel\"}", &bad) ==
          ATOMFP_ERROR_JSON);
    CHECK(strstr(atomfp_last_error(), "radial_basis") != NULL);
    CHECK(bad == NULL);
    /* a SOAP descriptor without silicon in its species list refuses the silicon crystal */
    atomfp_descriptor_t* carbon = NULL;
    CHECK(atomfp_descriptor_create("{\"type\": \"soap_power_spectrum\", \"species\": [6], \"max_radial\": 2, \"max_angular\": 1}",
                                   &carbon) == ATOMFP_OK);
    CHECK(atomfp_descriptor_compute(carbon, &system, &untouched, NULL) == ATOMFP_ERROR_SPECIES);
    CHECK(untouched == 42.0);
    atomfp_descriptor_free(carbon);
    /* sensitivity of centre 0: 3N eigenvalues, the rigid modes first as exact zeros, then ascending */
    int64_t n_env = 0;
    CHECK(atomfp_sensitivity_size(d, &system, 0, &n_env) == ATOMFP_OK);
    CHECK(n_env > 1);
    double* spectrum = malloc(sizeof(double) * 3 * n_env);
    CHECK(atomfp_sensitivity_spectrum(d, &system, 0, ATOMFP_SENSITIVITY_REMOVE_RIGID | ATOMFP_SENSITIVITY_SCALE_MAX, spectrum,
                                      NULL) == ATOMFP_OK);
    int ascending = 1;
    for (int64_t k = 1; k < 3 * n_env; ++k) ascending = ascending && spectrum[k] >= spectrum[k - 1];
    CHECK(ascending && spectrum[0] == 0.0 && fabs(spectrum[3 * n_env - 1] - 1.0) < 1e-14);
    CHECK(atomfp_sensitivity_spectrum(d, &system, 0, 8, spectrum, NULL) == ATOMFP_ERROR_INVALID_ARGUMENT);
    free(spectrum);
    /* a short manifold trace from C: frame 0 is the start, D and the traced distance grow from 0 */
    {
        const int64_t frames = 4;
        int64_t n_frames = 0;
        double* eigenvalues = malloc(sizeof(double) * frames * 3 * n_env);
        double displacement[4], distances[4], random_distances[4];
        CHECK(atomfp_manifold_trace(d, 0, NULL, &system, 0, "{\"steps\": 3, \"random_samples\": 2}", frames, &n_frames, NULL,
                                    NULL, eigenvalues, displacement, distances, random_distances) == ATOMFP_OK);
        CHECK(n_frames == 4 && displacement[0] == 0.0 && distances[0] == 0.0 && displacement[3] > 0.0);
        CHECK(distances[3] > 0.0 && random_distances[3] > 0.0);
        CHECK(atomfp_manifold_trace(d, 0, NULL, &system, 0, "{\"steps\": 9}", frames, &n_frames, NULL, NULL, NULL, NULL,
                                    NULL, NULL) == ATOMFP_ERROR_BUFFER_TOO_SMALL);
        CHECK(n_frames == 10);
        free(eigenvalues);
    }
    char tiny[2];
    int64_t required = 0;
    CHECK(atomfp_descriptor_parameters(d, tiny, 2, &required) == ATOMFP_ERROR_BUFFER_TOO_SMALL);
    CHECK(required > 2);
    CHECK(strcmp(atomfp_status_name(ATOMFP_ERROR_BUFFER_TOO_SMALL), "ATOMFP_ERROR_BUFFER_TOO_SMALL") == 0);

    free(features);
    free(gradients);
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(d);
    atomfp_descriptor_free(NULL);
    atomfp_neighbours_free(NULL);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
