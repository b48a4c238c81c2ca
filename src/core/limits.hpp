// Resource limits that protect a host process from input that would exhaust it (a cell given in
// the wrong units, a forged file). Each has a default and can be raised (or lowered) through an
// environment variable; docs/security.md lists them.
#pragma once

#include <cstdint>

namespace atomfp {

struct ResourceLimit {
    const char* variable;  // ATOMFP_...
    int64_t fallback;
    const char* what;
};

// Neighbours of one atom within the cutoff (physical densities give hundreds).
constexpr ResourceLimit max_neighbours_per_atom{"ATOMFP_MAX_NEIGHBOURS", 10000, "neighbours of one atom"};
// Pairs of one neighbour list (20 bytes each).
constexpr ResourceLimit max_neighbour_pairs{"ATOMFP_MAX_NEIGHBOUR_PAIRS", 400000000, "pairs of a neighbour list"};

// Bytes of one input file (extended XYZ, model, specification).
constexpr ResourceLimit max_input_bytes{"ATOMFP_MAX_INPUT_BYTES", int64_t(4) << 30, "bytes of an input file"};

// The limit's value: its environment variable when set (a positive integer; anything else is an
// Error(invalid_argument) naming it), else its default.
int64_t limit_value(const ResourceLimit& limit);

}  // namespace atomfp
