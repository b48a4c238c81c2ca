/*
 * Energies and forces of a linear model on ACSF features, E = sum_c w . F_c, two ways: from the
 * gradient blocks of atomfp_descriptor_compute (contract dE/dF with each [3][n_features] block and
 * add the result to the force on that block's atom), and from atomfp_descriptor_contract, which
 * does that contraction without forming the blocks (the route for production: memory of the
 * features only, and faster).
 *
 * The program checks its forces against central differences of the energy and exits non-zero if
 * they disagree, so it doubles as a test.
 */
#include <atomfp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N_ATOMS 16

static void fail(const char* what) {
    fprintf(stderr, "%s failed: %s\n", what, atomfp_last_error());
    exit(1);
}

/* Energy, and forces if `forces` is not NULL, for the given positions. */
static double energy_and_forces(const atomfp_descriptor_t* d, const double* weights, const double* positions,
                                const int32_t* species, const double* cell, double* forces) {
    double cutoff;
    int64_t nf;
    atomfp_descriptor_cutoff(d, &cutoff);
    atomfp_descriptor_feature_count(d, &nf);

    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    if (atomfp_neighbours_build(N_ATOMS, positions, species, cell, NULL, cutoff, &list) != ATOMFP_OK) fail("neighbours_build");
    atomfp_neighbours_system(list, &system);

    const int64_t n_blocks = system.n_centers + system.offsets[system.n_centers];
    double* features = malloc(sizeof(double) * system.n_centers * nf);
    double* gradients = forces ? malloc(sizeof(double) * n_blocks * 3 * nf) : NULL;
    if (atomfp_descriptor_compute(d, &system, features, gradients) != ATOMFP_OK) fail("descriptor_compute");

    double energy = 0.0;
    for (int64_t c = 0; c < system.n_centers; ++c)
        for (int64_t f = 0; f < nf; ++f) energy += weights[f] * features[c * nf + f];

    if (forces) {
        for (int64_t a = 0; a < 3 * N_ATOMS; ++a) forces[a] = 0.0;
        for (int64_t c = 0; c < system.n_centers; ++c) {
            const int64_t first = c + system.offsets[c];
            const int64_t n_listed = system.offsets[c + 1] - system.offsets[c];
            for (int64_t b = 0; b <= n_listed; ++b) {
                /* block 0 is the centre itself, then one block per listed neighbour */
                const int64_t atom = b == 0 ? system.centers[c] : system.neighbours[system.offsets[c] + b - 1];
                const double* block = gradients + (first + b) * 3 * nf;
                for (int k = 0; k < 3; ++k)
                    for (int64_t f = 0; f < nf; ++f) forces[3 * atom + k] -= weights[f] * block[k * nf + f];
            }
        }
    }
    if (forces) {
        /* The same forces without the gradient blocks: dE/dF_c = w for every centre. */
        double* energy_derivatives = malloc(sizeof(double) * system.n_centers * nf);
        double contracted[3 * N_ATOMS];
        for (int64_t c = 0; c < system.n_centers; ++c)
            for (int64_t f = 0; f < nf; ++f) energy_derivatives[c * nf + f] = weights[f];
        if (atomfp_descriptor_contract(d, &system, energy_derivatives, NULL, contracted, NULL) != ATOMFP_OK)
            fail("descriptor_contract");
        double difference = 0.0;
        for (int a = 0; a < 3 * N_ATOMS; ++a) difference = fmax(difference, fabs(contracted[a] - forces[a]));
        printf("forces from the blocks and from atomfp_descriptor_contract differ by %.1e\n", difference);
        if (difference > 1e-12) exit(1);
        free(energy_derivatives);
    }
    free(features);
    free(gradients);
    atomfp_neighbours_free(list);
    return energy;
}

int main(void) {
    /* A rattled 16-atom SiC cell (two cubic cells stacked along z). */
    const double a = 4.36;
    double cell[9] = {a, 0, 0, 0, a, 0, 0, 0, 2 * a};
    double positions[3 * N_ATOMS];
    int32_t species[N_ATOMS];
    static const double basis[8][3] = {{0, 0, 0},          {0, 0.5, 0.5},      {0.5, 0, 0.5},      {0.5, 0.5, 0},
                                       {0.25, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.75, 0.25, 0.75}, {0.75, 0.75, 0.25}};
    for (int i = 0; i < N_ATOMS; ++i) {
        for (int k = 0; k < 3; ++k) positions[3 * i + k] = (basis[i % 8][k] + (k == 2 ? i / 8 : 0)) * a + 0.05 * sin(1.7 * i + k);
        species[i] = (i % 8) < 4 ? 14 : 6;
    }

    atomfp_descriptor_t* d = NULL;
    if (atomfp_descriptor_create("{\"type\": \"acsf\", \"species\": [6, 14], \"cutoff\": 4.5}", &d) != ATOMFP_OK) fail("create");
    int64_t nf;
    atomfp_descriptor_feature_count(d, &nf);
    double* weights = malloc(sizeof(double) * nf);
    for (int64_t f = 0; f < nf; ++f) weights[f] = 0.01 * cos(0.37 * f);

    double forces[3 * N_ATOMS];
    const double energy = energy_and_forces(d, weights, positions, species, cell, forces);
    printf("atomfp %s: %lld ACSF features per atom\n", atomfp_version_string(), (long long)nf);
    printf("E = %.10f (toy linear model)\n", energy);

    double worst = 0.0, largest = 0.0, total[3] = {0, 0, 0};
    const double h = 1e-5;
    for (int i = 0; i < 3 * N_ATOMS; ++i) {
        const double saved = positions[i];
        positions[i] = saved + h;
        const double plus = energy_and_forces(d, weights, positions, species, cell, NULL);
        positions[i] = saved - h;
        const double minus = energy_and_forces(d, weights, positions, species, cell, NULL);
        positions[i] = saved;
        const double numerical = -(plus - minus) / (2 * h);
        if (fabs(numerical - forces[i]) > worst) worst = fabs(numerical - forces[i]);
        if (fabs(forces[i]) > largest) largest = fabs(forces[i]);
        total[i % 3] += forces[i];
    }
    printf("F[0] = (%.8f, %.8f, %.8f)\n", forces[0], forces[1], forces[2]);
    printf("max |F - F_fd| = %.2e (largest |F| = %.3f); sum of forces = (%.1e, %.1e, %.1e)\n", worst, largest, total[0],
           total[1], total[2]);
    free(weights);
    atomfp_descriptor_free(d);
    const int ok = worst <= 1e-6 * largest && fabs(total[0]) + fabs(total[1]) + fabs(total[2]) < 1e-10 * N_ATOMS;
    printf("%s\n", ok ? "forces agree with finite differences" : "FORCES DISAGREE");
    return ok ? 0 : 1;
}
