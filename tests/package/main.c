#include <atomfp.h>
#include <stdio.h>

int main(void) {
    const double positions[9] = {0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0};
    const int32_t species[3] = {8, 1, 1};
    atomfp_descriptor_t* d = NULL;
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    double features[3 * 4];
    if (atomfp_descriptor_create("{\"type\": \"acsf\", \"species\": [1, 8], \"cutoff\": 3.0, "
                                 "\"radial\": [{\"eta\": 0.5}], \"angular\": [{\"eta\": 0.1, \"zeta\": 1, \"lambda\": 1}]}",
                                 &d) != ATOMFP_OK ||
        atomfp_neighbours_build(3, positions, species, NULL, NULL, 3.0, &list) != ATOMFP_OK ||
        atomfp_neighbours_system(list, &system) != ATOMFP_OK ||
        atomfp_descriptor_compute(d, &system, NULL, NULL) != ATOMFP_OK) {
        fprintf(stderr, "downstream: %s\n", atomfp_last_error());
        return 1;
    }
    int64_t nf = 0;
    atomfp_descriptor_feature_count(d, &nf);
    if (nf != 2 + 3 || atomfp_descriptor_compute(d, &system, NULL, NULL) != ATOMFP_OK) return 1;
    (void)features;
    printf("downstream: atomfp %s, %lld features\n", atomfp_version_string(), (long long)nf);
    atomfp_neighbours_free(list);
    atomfp_descriptor_free(d);
    return 0;
}
